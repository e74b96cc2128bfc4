# bpf_object(NAME SOURCE): compile a BPF C file and generate its libbpf skeleton.
#
#   ${NAME}.bpf.o   clang -target bpf, against the checked-in bpf/vmlinux.h (never the build
#                   machine's kernel: the programs are CO-RE and must build anywhere)
#   ${NAME}.skel.h  `bpftool gen skeleton`, struct ${NAME}_bpf with ${NAME}_bpf__open() etc.
#   ${NAME}_skel    INTERFACE target: link it to get the header's directory on the include
#                   path (#include "sock_create.skel.h"); the object is embedded in the header.
# bpf/ of this repository, independent of which project includes this file.
get_filename_component(NETD_BPF_DIR ${CMAKE_CURRENT_LIST_DIR}/../bpf ABSOLUTE)

find_program(BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
find_program(BPF_LLVM_STRIP NAMES llvm-strip-14 llvm-strip)

# libbpf's headers (<bpf/bpf_helpers.h>); -idirafter keeps clang's own headers first.
if(LIBBPF_INCLUDEDIR)
  set(BPF_LIBBPF_INCLUDE ${LIBBPF_INCLUDEDIR})
else()
  set(BPF_LIBBPF_INCLUDE /usr/include)
endif()

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(BPF_TARGET_ARCH arm64)
else()
  set(BPF_TARGET_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

function(bpf_object NAME SOURCE)
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/${SOURCE})
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/skel)
  set(obj ${out_dir}/${NAME}.bpf.o)
  set(skel ${out_dir}/${NAME}.skel.h)
  file(GLOB bpf_headers ${NETD_BPF_DIR}/*.h)

  # DWARF is stripped (-g kept BTF, which CO-RE and the skeleton need, in .BTF sections).
  if(BPF_LLVM_STRIP)
    set(strip_cmd COMMAND ${BPF_LLVM_STRIP} -g ${obj})
  endif()
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND ${BPF_CLANG} -g -O2 -Wall -target bpf -D__TARGET_ARCH_${BPF_TARGET_ARCH}
            -I${NETD_BPF_DIR} -idirafter ${BPF_LIBBPF_INCLUDE}
            -c ${src} -o ${obj}
    ${strip_cmd}
    DEPENDS ${src} ${bpf_headers}
    COMMENT "BPF ${NAME}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${NAME}_bpf > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${obj}
    COMMENT "BPF skeleton ${NAME}.skel.h"
    VERBATIM)
  add_custom_target(${NAME}_skel_gen DEPENDS ${skel})
  add_library(${NAME}_skel INTERFACE)
  add_dependencies(${NAME}_skel ${NAME}_skel_gen)
  target_include_directories(${NAME}_skel INTERFACE ${out_dir})
  target_link_libraries(${NAME}_skel INTERFACE PkgConfig::LIBBPF)
endfunction()
