# The Python end-to-end tests (tests/interop, tests/apps) run with Debian's /usr/bin/python3 and
# its standard library only, so a pyenv or virtualenv first on PATH cannot change them.
find_program(MALFIX_SYSTEM_PYTHON3 python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT MALFIX_SYSTEM_PYTHON3)
    message(WARNING "/usr/bin/python3 not found: the interop and app tests will fail "
                    "(scripts/install-deps.sh installs it)")
    set(MALFIX_SYSTEM_PYTHON3 /usr/bin/python3)
endif()

# malfix_add_script_test(NAME SCRIPT LABELS [ARGS...]): runs SCRIPT of the calling directory on
# the built malfix and the shipped tests/data. LABELS is a ;-list (e.g. "app;known_bug").
# -B: no __pycache__ in the source tree.
function(malfix_add_script_test name script labels)
    add_test(NAME ${name}
             COMMAND ${MALFIX_SYSTEM_PYTHON3} -B ${CMAKE_CURRENT_SOURCE_DIR}/${script}
                     --malfix $<TARGET_FILE:malfix> --data ${PROJECT_SOURCE_DIR}/tests/data
                     ${ARGN})
    set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT 60)
endfunction()
