# Instrumented builds, each in its own build directory (never ./build):
#
#   -DNETD_SANITIZE=ON  ASan + UBSan for everything (scripts/test --sanitize, build-asan/).
#                       UBSan does not recover, so undefined behaviour fails the test it
#                       happens in, as an ASan report does.
#   -DNETD_FUZZ=ON      clang only: the same sanitizers plus libFuzzer's coverage feedback,
#                       and the fuzz targets of tests/fuzz linked with libFuzzer (scripts/fuzz,
#                       build-fuzz/).
option(NETD_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(NETD_FUZZ "Build the libFuzzer targets of tests/fuzz (needs clang)" OFF)

set(NETD_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
if(NETD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "NETD_FUZZ needs clang (libFuzzer): configure with CXX=clang++ CC=clang")
  endif()
  add_compile_options(${NETD_SANITIZER_FLAGS} -fsanitize=fuzzer-no-link)
  add_link_options(-fsanitize=address,undefined)
elseif(NETD_SANITIZE)
  add_compile_options(${NETD_SANITIZER_FLAGS})
  add_link_options(-fsanitize=address,undefined)
endif()
