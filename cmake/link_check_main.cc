// Linked with one library, whole, and only the libraries it declares
// (cmake/Layers.cmake): an undefined reference means the library calls into
// a library it does not link.
int main() { return 0; }
