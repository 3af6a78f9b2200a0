# crisisd_module(NAME SOURCES ... DEPENDS ...)
# One static library per module, include root daemon/, alias crisisd::NAME. DEPENDS lists exactly
# what the module may use, so the dependency direction of DESIGN.md is written down here.
function(crisisd_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;PRIVATE_DEPENDS" ${ARGN})
  add_library(crisisd_${name} STATIC ${ARG_SOURCES})
  add_library(crisisd::${name} ALIAS crisisd_${name})
  target_include_directories(crisisd_${name} PUBLIC "${PROJECT_SOURCE_DIR}/daemon")
  target_compile_features(crisisd_${name} PUBLIC cxx_std_20)
  target_link_libraries(crisisd_${name} PUBLIC ${ARG_DEPENDS} PRIVATE ${ARG_PRIVATE_DEPENDS})
endfunction()

# crisisd_test(NAME SOURCES ... DEPENDS ... LABELS ...)
function(crisisd_test name)
  # SERIAL: run alone (tests whose timing is the point, such as lease lapses, and that other
  # tests' load could stretch).
  cmake_parse_arguments(ARG "SERIAL" "" "SOURCES;DEPENDS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPENDS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/tests")
  target_compile_definitions(${name} PRIVATE CRISISD_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/data")
  set(serial FALSE)
  if(ARG_SERIAL)
    set(serial TRUE)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" RUN_SERIAL ${serial} DISCOVERY_TIMEOUT 60)
  # Collected for the unit_tests target (tests/CMakeLists.txt): the ASan stage builds only these.
  if("unit" IN_LIST ARG_LABELS)
    set_property(GLOBAL APPEND PROPERTY CRISISD_UNIT_TEST_TARGETS ${name})
  endif()
endfunction()

# crisisd_embed(OUTPUT file.cpp NAMESPACE ns HEADER "x/y.hpp" BASE dir FILES a b ...)
# Generates file.cpp defining ns::embedded_files() and ns::embedded(name) (declared in HEADER)
# from the FILES (paths relative to BASE), regenerated whenever one of them changes.
function(crisisd_embed)
  cmake_parse_arguments(ARG "" "OUTPUT;NAMESPACE;HEADER;BASE" "FILES" ${ARGN})
  set(deps "")
  foreach(f IN LISTS ARG_FILES)
    list(APPEND deps "${ARG_BASE}/${f}")
  endforeach()
  string(REPLACE ";" "|" files_arg "${ARG_FILES}")
  add_custom_command(
    OUTPUT "${ARG_OUTPUT}"
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${ARG_OUTPUT} -DNAMESPACE=${ARG_NAMESPACE} -DHEADER=${ARG_HEADER}
            -DBASE=${ARG_BASE} "-DFILES=${files_arg}" -P "${PROJECT_SOURCE_DIR}/cmake/embed.cmake"
    DEPENDS ${deps} "${PROJECT_SOURCE_DIR}/cmake/embed.cmake"
    COMMENT "Embedding ${ARG_NAMESPACE} assets"
    VERBATIM)
endfunction()
