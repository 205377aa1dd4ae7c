/* musl_client HOST PORT: a statically linked musl program (musl-gcc -static).
 * Resolves HOST with musl's own resolver (unconnected UDP sendto to every
 * nameserver; replies accepted only from a nameserver it asked), connects to
 * the first address that answers, sends an HTTP GET and prints
 * "peer <last line of the answer>". */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: musl_client HOST PORT\n");
    return 2;
  }
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
  struct addrinfo* list = NULL;
  int rc = getaddrinfo(argv[1], argv[2], &hints, &list);
  if (rc != 0) {
    printf("error resolve: %s\n", gai_strerror(rc));
    return 1;
  }
  for (struct addrinfo* a = list; a != NULL; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0 || connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      if (fd >= 0) close(fd);
      continue;
    }
    const char request[] = "GET / HTTP/1.0\r\n\r\n";
    if (write(fd, request, sizeof(request) - 1) < 0) return 1;
    char reply[2048];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof(reply) - 1 && (n = read(fd, reply + got, sizeof(reply) - 1 - got)) > 0) {
      got += (size_t)n;
    }
    reply[got] = 0;
    while (got > 0 && (reply[got - 1] == '\n' || reply[got - 1] == '\r')) reply[--got] = 0;
    char* last = strrchr(reply, '\n');
    printf("peer %s\n", last ? last + 1 : reply);
    return 0;
  }
  printf("error connect: no address answered\n");
  return 1;
}
