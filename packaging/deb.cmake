# `make deb`: a Debian package of what `cmake --install` installs, built by
# CPack from the same install rules (so `cmake --install`, the package and
# the Install test cannot drift apart). Included by the top-level
# CMakeLists.txt; the Makefile's deb target configures the build the way
# Debian builds packages (CMAKE_BUILD_TYPE=None, dpkg-buildflags' hardening
# flags) and runs cpack. tests/packaging/deb_test.sh checks the result.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME bindsup)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "force a program's network traffic through one interface")
# The lines after the summary.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "bindsup -i IFACE -- COMMAND runs COMMAND so that every packet it, and every
process it starts, sends through an internet socket leaves through IFACE, or
not at all. A seccomp user-notification supervisor performs each system call
that can choose a route (connect, sendto, sendmsg, ...) on a socket bound to
IFACE, so it works for statically linked programs, Go binaries, UDP and IPv6
alike, without root, routing tables or namespaces.")
# bindsup_<version>_<arch>.deb, the architecture from dpkg --print-architecture.
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(BINDSUP_DEB_MAINTAINER "bindsup maintainers <maintainers@bindsup.invalid>"
    CACHE STRING "The Maintainer field of make deb's package")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${BINDSUP_DEB_MAINTAINER}")
# Depends from the shared libraries the binary links (dpkg-shlibdeps):
# libc6, libseccomp2, libfmt9, libstdc++6, libgcc-s1 on Debian 12.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Debian compresses manual pages (policy 12.1); `cmake --install` leaves them
# as they are.
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/compress-man-pages.cmake)

include(CPack)
