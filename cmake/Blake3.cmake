# SPDX-License-Identifier: Apache-2.0
# BLAKE3: the system library when pkg-config knows `libblake3`; otherwise the
# official C sources, compiled into libsecureio. Debian's librust-blake3-dev
# installs them under its cargo registry folder; -DBLAKE3_C_DIR=... overrides.
#
# Result: SECUREIO_BLAKE3_LINK (a target to link, or empty),
# SECUREIO_BLAKE3_OBJECTS (objects to compile into libsecureio, or empty), the
# include folder of blake3.h in either case, and SECUREIO_PC_REQUIRES_PRIVATE.

pkg_check_modules(LIBBLAKE3 QUIET IMPORTED_TARGET libblake3)

set(SECUREIO_PC_REQUIRES_PRIVATE "libcrypto >= 3.0, libsodium >= 1.0.18")

if(LIBBLAKE3_FOUND AND NOT BLAKE3_C_DIR)
  message(STATUS "BLAKE3: system library libblake3 ${LIBBLAKE3_VERSION}")
  set(SECUREIO_BLAKE3_LINK PkgConfig::LIBBLAKE3)
  set(SECUREIO_BLAKE3_OBJECTS "")
  string(APPEND SECUREIO_PC_REQUIRES_PRIVATE ", libblake3")
  set(SECUREIO_BLAKE3_SOURCE "libblake3 ${LIBBLAKE3_VERSION} (pkg-config)")
  return()
endif()

if(NOT BLAKE3_C_DIR)
  file(GLOB _b3_candidates LIST_DIRECTORIES true
    /usr/share/cargo/registry/blake3-*/c)
  list(SORT _b3_candidates COMPARE NATURAL ORDER DESCENDING)
  foreach(_dir IN LISTS _b3_candidates)
    if(EXISTS "${_dir}/blake3.c" AND EXISTS "${_dir}/blake3.h")
      set(BLAKE3_C_DIR "${_dir}" CACHE PATH "BLAKE3 C sources" FORCE)
      break()
    endif()
  endforeach()
endif()

if(NOT BLAKE3_C_DIR OR NOT EXISTS "${BLAKE3_C_DIR}/blake3.c")
  message(FATAL_ERROR
    "BLAKE3 not found: no pkg-config libblake3 and no C sources. "
    "Install Debian's librust-blake3-dev (scripts/install-deps.sh does) "
    "or pass -DBLAKE3_C_DIR=/path/to/BLAKE3/c")
endif()
message(STATUS "BLAKE3: compiling the C sources in ${BLAKE3_C_DIR}")
set(SECUREIO_BLAKE3_SOURCE "C sources from ${BLAKE3_C_DIR}")

set(_b3 "${BLAKE3_C_DIR}")
add_library(secureio_blake3 OBJECT
  ${_b3}/blake3.c ${_b3}/blake3_dispatch.c ${_b3}/blake3_portable.c)
target_include_directories(secureio_blake3 SYSTEM PUBLIC ${_b3})

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$" AND NOT WIN32)
  # Runtime dispatch picks the widest of these the CPU supports.
  target_sources(secureio_blake3 PRIVATE
    ${_b3}/blake3_sse2_x86-64_unix.S ${_b3}/blake3_sse41_x86-64_unix.S
    ${_b3}/blake3_avx2_x86-64_unix.S ${_b3}/blake3_avx512_x86-64_unix.S)
  # The .S files carry no note; say the stack need not be executable.
  set_source_files_properties(
    ${_b3}/blake3_sse2_x86-64_unix.S ${_b3}/blake3_sse41_x86-64_unix.S
    ${_b3}/blake3_avx2_x86-64_unix.S ${_b3}/blake3_avx512_x86-64_unix.S
    PROPERTIES COMPILE_OPTIONS "-Wa,--noexecstack")
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  target_sources(secureio_blake3 PRIVATE ${_b3}/blake3_neon.c)
  target_compile_definitions(secureio_blake3 PRIVATE BLAKE3_USE_NEON=1)
else()
  target_compile_definitions(secureio_blake3 PRIVATE
    BLAKE3_NO_SSE2 BLAKE3_NO_SSE41 BLAKE3_NO_AVX2 BLAKE3_NO_AVX512)
endif()
# Third-party code: build it, but do not hold it to our warning flags.
target_compile_options(secureio_blake3 PRIVATE -w)
set(SECUREIO_BLAKE3_LINK "")
set(SECUREIO_BLAKE3_OBJECTS $<TARGET_OBJECTS:secureio_blake3>)
