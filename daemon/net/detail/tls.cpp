#include "net/detail/tls.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

namespace crisisd::net::detail {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> make_client_context(const std::string& ca_file, std::string& error) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                     ec);
    // The system store is always trusted; a missing store is not fatal when a CA file follows.
    ctx->set_default_verify_paths(ec);
    if (!ca_file.empty()) {
        ctx->load_verify_file(ca_file, ec);
        if (ec) {
            error = "tls: cannot load ca_file " + ca_file + ": " + ec.message();
            return nullptr;
        }
    }
    ctx->set_verify_mode(ssl::verify_peer, ec);
    return ctx;
}

std::shared_ptr<ssl::context> make_server_context(const std::string& cert_file,
                                                  const std::string& key_file,
                                                  boost::system::error_code& ec) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                     ec);
    if (ec) return nullptr;
    ctx->use_certificate_chain_file(cert_file, ec);
    if (ec) return nullptr;
    ctx->use_private_key_file(key_file, ssl::context::pem, ec);
    if (ec) return nullptr;
    return ctx;
}

bool prepare_client_ssl(SSL* ssl_handle, const std::string& host) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(host, ec);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
    if (!ec) {
        // RFC 6066 forbids IP literals in SNI; the certificate must carry the address as an
        // iPAddress SAN instead.
        return X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
    }
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1) return false;
    // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
    return SSL_ctrl(ssl_handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                    const_cast<char*>(host.c_str())) == 1;
}

std::string describe_tls_error(const boost::system::error_code& ec, SSL* ssl_handle) {
    std::string out = "tls: ";
    if (ec == ssl::error::stream_truncated) return out + "stream truncated";
    out += ec.message();
    if (ssl_handle != nullptr) {
        long verify = SSL_get_verify_result(ssl_handle);
        if (verify != X509_V_OK) {
            out += " (";
            out += X509_verify_cert_error_string(verify);
            out += ')';
        }
    }
    return out;
}

}  // namespace crisisd::net::detail
