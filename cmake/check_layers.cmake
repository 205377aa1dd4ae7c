# Checks every #include "..." of the project's layered folders against the
# table cmake/Layers.cmake writes: a file may include headers from its own
# folder and from the folders of the libraries its folder links directly.
#   cmake -DTABLE=<build>/layers.txt -DROOT=<source> -P check_layers.cmake
# Each table line is FOLDER=TARGET=ALLOWED,FOLDERS.
cmake_minimum_required(VERSION 3.25)

file(STRINGS ${TABLE} lines)
set(folders "")
foreach(line IN LISTS lines)
  string(REPLACE "=" ";" parts "${line}")
  list(GET parts 0 folder)
  list(GET parts 1 target)
  list(LENGTH parts n)
  set(allowed "")
  if(n GREATER 2)
    list(GET parts 2 allowed)
    string(REPLACE "," ";" allowed "${allowed}")
  endif()
  list(APPEND folders ${folder})
  set(target_${folder} ${target})
  set(allowed_${folder} ${folder} ${allowed})
endforeach()

# The layered folder an included path lives in (its directory, or the
# deepest folder of the table that holds it: supervisor/kernel/bpf/ is part
# of supervisor/kernel/); empty otherwise.
function(folder_of path out)
  get_filename_component(dir ${path} DIRECTORY)
  set(best "")
  foreach(folder IN LISTS folders)
    string(LENGTH "${folder}" length)
    string(LENGTH "${best}" best_length)
    if((dir STREQUAL folder OR dir MATCHES "^${folder}/") AND length GREATER best_length)
      set(best ${folder})
    endif()
  endforeach()
  set(${out} "${best}" PARENT_SCOPE)
endfunction()

set(errors 0)
foreach(folder IN LISTS folders)
  file(GLOB sources LIST_DIRECTORIES false ${ROOT}/${folder}/*.h ${ROOT}/${folder}/*.cc)
  foreach(source IN LISTS sources)
    file(STRINGS ${source} includes REGEX "^#include \"")
    file(RELATIVE_PATH rel ${ROOT} ${source})
    foreach(include IN LISTS includes)
      string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" path "${include}")
      folder_of(${path} dep)
      if(dep STREQUAL "")
        get_filename_component(top ${path} DIRECTORY)
        if(top MATCHES "^(base|filter|supervisor)(/|$)")
          message(SEND_ERROR "${rel}: includes ${path}, which is in no library's folder "
                             "(give the folder a library: cmake/Layers.cmake)")
          math(EXPR errors "${errors} + 1")
        endif()
      elseif(NOT dep IN_LIST allowed_${folder})
        message(SEND_ERROR "${rel}: includes ${path}, but ${target_${folder}} does not link "
                           "${target_${dep}}: a wrong-way include (docs/architecture.md), or "
                           "a dependency to declare in ${folder}/CMakeLists.txt")
        math(EXPR errors "${errors} + 1")
      endif()
    endforeach()
  endforeach()
endforeach()
if(errors GREATER 0)
  message(FATAL_ERROR "${errors} include(s) against the layers")
endif()
