#pragma once
// TLS setup shared by the clients and servers of net/. Internal: includes Asio's SSL headers.
#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <string>

#include <openssl/ssl.h>

namespace crisisd::net::detail {

// A client context that verifies the peer against the system trust store plus ca_file (PEM,
// optional). On failure returns null and sets error to a readable "tls: …" message.
std::shared_ptr<boost::asio::ssl::context> make_client_context(const std::string& ca_file,
                                                               std::string& error);

// A server context presenting cert_file (PEM chain) with key_file.
std::shared_ptr<boost::asio::ssl::context> make_server_context(const std::string& cert_file,
                                                               const std::string& key_file,
                                                               boost::system::error_code& ec);

// Per connection, before the handshake: SNI (for names, not IP literals) and the name or
// address the certificate must match. Returns false if OpenSSL refused the settings.
bool prepare_client_ssl(SSL* ssl, const std::string& host);

// "tls: certificate verify failed (hostname mismatch)" and the like, for an error from the
// handshake of `ssl`.
std::string describe_tls_error(const boost::system::error_code& ec, SSL* ssl);

}  // namespace crisisd::net::detail
