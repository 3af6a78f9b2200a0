// The one translation unit that compiles Asio, Asio-SSL and Beast (separate compilation, see
// CMakeLists.txt). Every other file includes only their declarations, which keeps a 2-core
// build quick.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
