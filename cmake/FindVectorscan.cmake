# Finds Vectorscan (Debian libvectorscan-dev), the portable Hyperscan fork. Debian ships only a
# pkg-config file for it, so this module wraps that into the imported target Vectorscan::hs.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_HS QUIET libhs)
endif()
find_path(Vectorscan_INCLUDE_DIR hs.h PATH_SUFFIXES hs HINTS ${PC_HS_INCLUDE_DIRS})
find_library(Vectorscan_LIBRARY NAMES hs HINTS ${PC_HS_LIBRARY_DIRS})
set(Vectorscan_VERSION "${PC_HS_VERSION}")
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Vectorscan
  REQUIRED_VARS Vectorscan_LIBRARY Vectorscan_INCLUDE_DIR
  VERSION_VAR Vectorscan_VERSION)
if(Vectorscan_FOUND AND NOT TARGET Vectorscan::hs)
  add_library(Vectorscan::hs UNKNOWN IMPORTED)
  set_target_properties(Vectorscan::hs PROPERTIES
    IMPORTED_LOCATION "${Vectorscan_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${Vectorscan_INCLUDE_DIR}")
endif()
mark_as_advanced(Vectorscan_INCLUDE_DIR Vectorscan_LIBRARY)
