# Operations tests (issue 7), included from tests/integration/CMakeLists.txt.
crisisd_integration_test(ops_test ops_test.cpp)

# Install layout, the unit's hardening score, Prometheus alert rules, optionally the .deb.
add_test(NAME ops_install_test
         COMMAND bash "${CMAKE_CURRENT_SOURCE_DIR}/ops_install_test.sh" "${PROJECT_BINARY_DIR}" "${PROJECT_SOURCE_DIR}")
set_tests_properties(ops_install_test PROPERTIES LABELS integration TIMEOUT 300)

# The console in real headless Chromium during a scripted spike (tests/browser).
find_program(CRISISD_NODE node)
if(CRISISD_NODE AND EXISTS "${PROJECT_SOURCE_DIR}/tests/browser/console_test.mjs")
  add_test(NAME console_browser_test
           COMMAND "${CRISISD_NODE}" "${PROJECT_SOURCE_DIR}/tests/browser/console_test.mjs"
                   --crisisd "$<TARGET_FILE:crisisd>" --out "${CMAKE_CURRENT_BINARY_DIR}/console_browser_test")
  set_tests_properties(console_browser_test PROPERTIES LABELS integration TIMEOUT 180 SKIP_RETURN_CODE 77)
endif()
