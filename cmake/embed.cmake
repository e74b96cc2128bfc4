# Writes OUTPUT: a C++ file defining netd::varlink::kInterfaceDescriptions, one entry per
# INPUTS file (the Varlink IDL text served by org.varlink.service.GetInterfaceDescription).
set(body "// Generated from lib/varlink/*.varlink by cmake/embed.cmake. Do not edit.\n#include \"lib/varlink/idl.h\"\nnamespace netd::varlink {\nconst std::vector<InterfaceDescription> kInterfaceDescriptions = {\n")
foreach(f ${INPUTS})
  file(READ ${f} text)
  get_filename_component(name ${f} NAME_WE)
  get_filename_component(full ${f} NAME)
  string(REGEX REPLACE "\\.varlink$" "" iface ${full})
  string(APPEND body "  {\"${iface}\", R\"IDL(${text})IDL\"},\n")
endforeach()
string(APPEND body "};\n}  // namespace netd::varlink\n")
file(WRITE ${OUTPUT}.tmp "${body}")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
