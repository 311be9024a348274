# eigenml_link_httplib(<target>): makes cpp-httplib usable from <target> (the model server and its
# test). Debian's libcpp-httplib-dev ships httplib.h as declarations only, with the implementation
# in libcpp-httplib.so built with OpenSSL/zlib/brotli support: the same CPPHTTPLIB_* macros must be
# defined for the class layouts to match, so pkg-config's flags are used when available. Otherwise
# the header is taken as the upstream single-header (header-only) build.
function(eigenml_link_httplib target)
  find_package(Threads REQUIRED)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND AND NOT TARGET PkgConfig::EIGENML_HTTPLIB)
    pkg_check_modules(EIGENML_HTTPLIB QUIET IMPORTED_TARGET GLOBAL cpp-httplib)
  endif()
  if(TARGET PkgConfig::EIGENML_HTTPLIB)
    target_link_libraries(${target} PRIVATE PkgConfig::EIGENML_HTTPLIB Threads::Threads)
  else()
    find_path(EIGENML_HTTPLIB_INCLUDE_DIR httplib.h)
    if(NOT EIGENML_HTTPLIB_INCLUDE_DIR)
      message(FATAL_ERROR "cpp-httplib not found (Debian: apt-get install libcpp-httplib-dev)")
    endif()
    target_include_directories(${target} SYSTEM PRIVATE ${EIGENML_HTTPLIB_INCLUDE_DIR})
    target_link_libraries(${target} PRIVATE Threads::Threads)
  endif()
endfunction()
