#include "cluster/nats_connection.hpp"

#include <vector>

#include "cluster/detail/nats.hpp"

namespace crisisd::cluster {
namespace {

// Unanswered pings after which the client calls its link dead and reconnects.
constexpr int max_pings_out = 2;

void on_disconnected(natsConnection*, void* closure) {
    static_cast<std::atomic<long>*>(closure)->fetch_add(1);
}

std::string setup_options(natsOptions* o, const nats_settings& s, std::atomic<long>* disconnects) {
    std::vector<const char*> urls;
    bool tls_url = false;
    for (const auto& u : s.servers) {
        urls.push_back(u.c_str());
        if (u.rfind("tls://", 0) == 0) tls_url = true;
    }
    natsStatus st = natsOptions_SetServers(o, urls.data(), static_cast<int>(urls.size()));
    // The servers are tried in the order given: an operator lists the nearest first.
    if (st == NATS_OK) st = natsOptions_SetNoRandomize(o, true);
    if (st == NATS_OK) st = natsOptions_SetTimeout(o, s.connect_timeout.count());
    if (st == NATS_OK) st = natsOptions_SetReconnectWait(o, s.reconnect_wait.count());
    // A replica never gives up on NATS: while it is cut off, its leases lapse and fencing keeps it
    // quiet; when NATS comes back it rejoins.
    if (st == NATS_OK) st = natsOptions_SetMaxReconnect(o, -1);
    // A link can die without a close reaching either end (a firewall or NAT that drops the flow, a
    // cable, a frozen proxy): the socket stays open, every request times out, and the client only
    // notices through its pings, which by default go every two minutes and give up after two
    // unanswered ones. Until then it does not reconnect: a replica whose old flow is gone for
    // good would stay out of the cluster for minutes after NATS is reachable again. Pinging every request_timeout calls a link dead within
    // three silent intervals (the third tick finds two pings unanswered); the server answers a
    // PING from its read loop at once, so a busy but live link is not mistaken for a dead one.
    if (st == NATS_OK) st = natsOptions_SetPingInterval(o, s.request_timeout.count());
    if (st == NATS_OK) st = natsOptions_SetMaxPingsOut(o, max_pings_out);
    if (st == NATS_OK) st = natsOptions_SetIgnoreDiscoveredServers(o, s.ignore_discovered_servers);
    if (st == NATS_OK) st = natsOptions_SetDisconnectedCB(o, on_disconnected, disconnects);
    if (st == NATS_OK && !s.client_name.empty()) st = natsOptions_SetName(o, s.client_name.c_str());
    if (st == NATS_OK && !s.credentials_file.empty())
        st = natsOptions_SetUserCredentialsFromFiles(o, s.credentials_file.c_str(), nullptr);
    if (st != NATS_OK) return detail::nats_error(st);
    if (s.tls.enabled || tls_url) {
        st = natsOptions_SetSecure(o, true);
        if (st == NATS_OK && !s.tls.ca_file.empty()) st = natsOptions_LoadCATrustedCertificates(o, s.tls.ca_file.c_str());
        if (st == NATS_OK && !s.tls.cert_file.empty())
            st = natsOptions_LoadCertificatesChain(o, s.tls.cert_file.c_str(), s.tls.key_file.c_str());
        if (st == NATS_OK && !s.tls.server_name.empty()) st = natsOptions_SetExpectedHostname(o, s.tls.server_name.c_str());
        if (st != NATS_OK) return "tls: " + detail::nats_error(st);
    }
    return {};
}

}  // namespace

nats_connection::nats_connection(const nats_settings& settings)
    : settings_(settings), handles_(std::make_unique<detail::nats_handles>()) {}

std::unique_ptr<nats_connection> nats_connection::connect(const nats_settings& settings, std::string& error) {
    if (settings.servers.empty()) {
        error = "no NATS servers given";
        return nullptr;
    }
    std::unique_ptr<nats_connection> c(new nats_connection(settings));
    auto& h = *c->handles_;
    natsStatus st = natsOptions_Create(&h.options);
    if (st != NATS_OK) {
        error = detail::nats_error(st);
        return nullptr;
    }
    error = setup_options(h.options, settings, &c->disconnects_);
    if (!error.empty()) return nullptr;
    st = natsConnection_Connect(&h.connection, h.options);
    if (st != NATS_OK) {
        error = "connect: " + detail::nats_error(st);
        return nullptr;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = settings.request_timeout.count();
    st = natsConnection_JetStream(&h.js, h.connection, &jo);
    if (st != NATS_OK) {
        error = "jetstream: " + detail::nats_error(st);
        return nullptr;
    }
    return c;
}

nats_connection::~nats_connection() {
    if (handles_->js) jsCtx_Destroy(handles_->js);
    if (handles_->connection) natsConnection_Destroy(handles_->connection);
    if (handles_->options) natsOptions_Destroy(handles_->options);
}

void nats_connection::close() {
    if (handles_->connection) natsConnection_Close(handles_->connection);
}

std::int64_t nats_connection::max_payload() const {
    return handles_->connection ? natsConnection_GetMaxPayload(handles_->connection) : 0;
}

bool nats_connection::connected() const {
    return handles_->connection && natsConnection_Status(handles_->connection) == NATS_CONN_STATUS_CONNECTED;
}

}  // namespace crisisd::cluster
