# add_existing_subdirectories(a b c): add_subdirectory for each that has a CMakeLists.txt,
# so folders can land one at a time.
function(add_existing_subdirectories)
  foreach(d ${ARGN})
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${d}/CMakeLists.txt)
      add_subdirectory(${d})
    endif()
  endforeach()
endfunction()
