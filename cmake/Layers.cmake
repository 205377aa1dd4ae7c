# The layering of bindsup's libraries, and its enforcement.
#
# Each folder (base/, filter/, supervisor/<unit>/) is one static library,
# bindsup_<unit>, that links only the libraries of the folders below it
# (docs/architecture.md has the map). Two checks keep it that way:
#
#   - includes: a file may include headers only from its own folder and from
#     the folders of the bindsup_* libraries its folder links directly
#     (cmake/check_layers.cmake, on every build and as the ctest test
#     `layering`). This catches what a linker cannot: a header-only include
#     the wrong way;
#   - symbols: for each library, a link_check_<library> executable links all
#     of it (whole archive) with nothing but the libraries it declares, so a
#     call into an undeclared library fails to link.
#
# Each folder's CMakeLists.txt declares its library, then
#   bindsup_unit_tests(x_test.cc ...)   its unit tests (tests/CMakeLists.txt
#                                       builds them into unit_tests)
# and supervisor/CMakeLists.txt calls bindsup_check_layers() once every
# library exists.

function(bindsup_unit_tests)
  foreach(file IN LISTS ARGN)
    set_property(GLOBAL APPEND PROPERTY BINDSUP_UNIT_TEST_SOURCES
                 ${CMAKE_CURRENT_SOURCE_DIR}/${file})
  endforeach()
endfunction()

# The folder of target `target`, relative to the project ("supervisor/policy").
function(_bindsup_folder target out)
  get_target_property(dir ${target} SOURCE_DIR)
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${dir})
  set(${out} ${rel} PARENT_SCOPE)
endfunction()

# bindsup_check_layers(TARGETS <library or executable>...)
function(bindsup_check_layers)
  cmake_parse_arguments(PARSE_ARGV 0 ARG "" "" "TARGETS")
  # What the executable waits for: every check below.
  add_custom_target(bindsup_layers)
  set(table "")
  foreach(target IN LISTS ARG_TARGETS)
    _bindsup_folder(${target} folder)
    get_target_property(links ${target} LINK_LIBRARIES)
    set(allowed "")
    foreach(link IN LISTS links)
      if(link MATCHES "^bindsup_" AND NOT link STREQUAL "bindsup_warnings")
        _bindsup_folder(${link} dep)
        list(APPEND allowed ${dep})
      endif()
    endforeach()
    list(JOIN allowed "," allowed)
    string(APPEND table "${folder}=${target}=${allowed}\n")

    # Symbols: the whole library, with only what it declares.
    get_target_property(type ${target} TYPE)
    if(type STREQUAL "STATIC_LIBRARY")
      add_executable(link_check_${target} ${PROJECT_SOURCE_DIR}/cmake/link_check_main.cc)
      target_link_libraries(link_check_${target}
                            PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,${target}>")
      add_dependencies(bindsup_layers link_check_${target})
    endif()
  endforeach()
  set(file ${CMAKE_BINARY_DIR}/layers.txt)
  file(WRITE ${file} "${table}")
  set_property(GLOBAL PROPERTY BINDSUP_LAYER_TABLE ${file})
  add_custom_target(bindsup_check_includes ALL
    COMMAND ${CMAKE_COMMAND} -DTABLE=${file} -DROOT=${PROJECT_SOURCE_DIR}
            -P ${PROJECT_SOURCE_DIR}/cmake/check_layers.cmake
    COMMENT "Checking that includes follow the layers (cmake/Layers.cmake)"
    VERBATIM)
  add_dependencies(bindsup_layers bindsup_check_includes)
endfunction()
