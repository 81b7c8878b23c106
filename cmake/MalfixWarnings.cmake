# malfix_apply_warnings(target): the one place that decides warnings and sanitizers per target.
# -Wnull-dereference is left out: GCC 12 reports it inside libstdc++ strings inlined into
# CLI11 and Boost.Asio code at -O2, where no null pointer exists.
function(malfix_apply_warnings target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                           -Wno-sign-conversion -Wnon-virtual-dtor -Wold-style-cast
                           -Wcast-align -Wunused -Woverloaded-virtual
                           -Wimplicit-fallthrough)
    if(MALFIX_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
    if(MALFIX_SANITIZE)
        target_compile_options(${target} PRIVATE -fsanitize=address,undefined
                               -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
        target_link_options(${target} PRIVATE -fsanitize=address,undefined)
    endif()
endfunction()
