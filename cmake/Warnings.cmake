# Warnings for our own targets only: third-party headers come in as SYSTEM.
function(netscope_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror)
endfunction()

# One static library per src/ folder, sources globbed so that adding a file needs no
# edit here. Usage: netscope_module(NAME core DEPS ... [PUBLIC_DEPS ...])
function(netscope_module)
  cmake_parse_arguments(M "" "NAME" "DEPS;PUBLIC_DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(NOT srcs)
    # A header-only module (for now): an INTERFACE target with the same name.
    add_library(netscope_${M_NAME} INTERFACE)
    add_library(netscope::${M_NAME} ALIAS netscope_${M_NAME})
    target_include_directories(netscope_${M_NAME} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(netscope_${M_NAME} INTERFACE ${M_PUBLIC_DEPS})
    return()
  endif()
  add_library(netscope_${M_NAME} STATIC ${srcs})
  add_library(netscope::${M_NAME} ALIAS netscope_${M_NAME})
  target_include_directories(netscope_${M_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(netscope_${M_NAME} PUBLIC ${M_PUBLIC_DEPS} PRIVATE ${M_DEPS})
  netscope_warnings(netscope_${M_NAME})
endfunction()
