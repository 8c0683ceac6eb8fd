# Every dependency is a Debian 12 package (scripts/setup.sh installs them all).
find_package(PkgConfig REQUIRED)
pkg_check_modules(UV REQUIRED IMPORTED_TARGET libuv>=1.44)        # Debian ships no CMake config
pkg_check_modules(CARES REQUIRED IMPORTED_TARGET libcares>=1.18)  # Debian ships no CMake config
pkg_check_modules(IDN2 REQUIRED IMPORTED_TARGET libidn2)
pkg_check_modules(PSL REQUIRED IMPORTED_TARGET libpsl)
find_package(OpenSSL 3.0 REQUIRED)
find_package(mimalloc 2.0 REQUIRED CONFIG)  # "2" alone fails the package's version check
find_package(nlohmann_json 3.10 REQUIRED CONFIG)
find_package(tomlplusplus 3 REQUIRED CONFIG)
find_package(CLI11 REQUIRED CONFIG)
find_package(Threads REQUIRED)
if(MPIC_BUILD_TESTS)
    find_package(GTest REQUIRED CONFIG)
endif()
if(MPIC_BUILD_BENCH)
    find_package(benchmark REQUIRED CONFIG)
endif()

# llhttp: Debian's node-llhttp ships the generated C sources; we compile them as our own target rather than
# copying them into the tree.
set(LLHTTP_SRC_DIR /usr/share/llhttp CACHE PATH "llhttp C sources (Debian package node-llhttp)")
set(LLHTTP_INC_DIR /usr/share/include/llhttp CACHE PATH "directory holding llhttp.h")
if(NOT EXISTS ${LLHTTP_SRC_DIR}/llhttp.c)
    message(FATAL_ERROR "llhttp sources not found in ${LLHTTP_SRC_DIR}: apt-get install node-llhttp")
endif()
add_library(mpic_llhttp STATIC ${LLHTTP_SRC_DIR}/llhttp.c ${LLHTTP_SRC_DIR}/api.c ${LLHTTP_SRC_DIR}/http.c)
target_include_directories(mpic_llhttp SYSTEM PUBLIC ${LLHTTP_INC_DIR})
set_target_properties(mpic_llhttp PROPERTIES C_STANDARD 99)
target_compile_options(mpic_llhttp PRIVATE -w)  # generated code, not ours
add_library(mpic::llhttp ALIAS mpic_llhttp)

# Public suffix list shipped by Debian's publicsuffix package (DAFSA form, read by libpsl).
set(MPIC_PSL_FILE /usr/share/publicsuffix/public_suffix_list.dafsa CACHE FILEPATH "public suffix list for libpsl")
