# Compile settings shared by every target of ours: warnings, sanitizers, include root.

set(MPIC_SANITIZE_FLAGS "")
if(MPIC_ASAN)
    set(MPIC_SANITIZE_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
elseif(MPIC_TSAN)
    set(MPIC_SANITIZE_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
endif()
if(MPIC_SANITIZE_FLAGS)
    add_compile_options(${MPIC_SANITIZE_FLAGS})
    add_link_options(${MPIC_SANITIZE_FLAGS})
endif()

# mpic_configure_target(<target>): warnings as errors in our code, repository root on the include path.
function(mpic_configure_target target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                             -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
                                             -Wimplicit-fallthrough)
    # -Wnull-dereference is left out: GCC 12 at -O2 reports it inside libstdc++'s inlined string/vector code
    # (false positives in std::vector<std::string>::emplace_back), which would fail Release builds. For the same
    # reason -Wrestrict is off with GCC: at -O3 GCC 12 flags plain std::string concatenation inside char_traits
    # (GCC bug 105329).
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
        target_compile_options(${target} PRIVATE -Wno-restrict)
    endif()
    if(MPIC_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

# mpic_add_library(<name> <sources...>): static library mpic_<name> with ALIAS mpic::<name>.
function(mpic_add_library name)
    add_library(mpic_${name} STATIC ${ARGN})
    add_library(mpic::${name} ALIAS mpic_${name})
    mpic_configure_target(mpic_${name})
endfunction()

# mpic_add_executable(<name> <sources...>): a binary we ship; mimalloc is its allocator (except under sanitizers).
function(mpic_add_executable name)
    add_executable(${name} ${ARGN})
    mpic_configure_target(${name})
    mpic_use_mimalloc(${name})
endfunction()

# mpic_use_mimalloc(<target>): route malloc/free and operator new/delete to mimalloc. Debian's libmimalloc.so is
# built with MI_OVERRIDE, so linking it first interposes malloc; core/allocator/override.cc adds new/delete.
function(mpic_use_mimalloc target)
    if(NOT MPIC_ASAN AND NOT MPIC_TSAN AND NOT MPIC_FUZZ)
        target_link_libraries(${target} PRIVATE mpic_mimalloc_override)
    endif()
endfunction()
