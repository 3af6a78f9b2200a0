#include "ingest/feed_source.hpp"

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <charconv>
#include <optional>
#include <random>

#include "core/log.hpp"
#include "net/backoff.hpp"
#include "net/detail/async.hpp"
#include "net/http_client.hpp"

namespace crisisd::ingest {

namespace asio = boost::asio;
using net::detail::nothrow;

namespace {

// Inflates a gzip (or zlib) body; nullopt when it is corrupt or would exceed `limit`.
std::optional<std::string> inflate_gzip(std::string_view in, std::size_t limit) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 32) != Z_OK) return std::nullopt;  // +32: gzip or zlib header
    std::string out;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    int rc = Z_OK;
    char buffer[16384];
    while (rc != Z_STREAM_END) {
        z.next_out = reinterpret_cast<Bytef*>(buffer);
        z.avail_out = sizeof buffer;
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) break;
        out.append(buffer, sizeof buffer - z.avail_out);
        if (out.size() > limit) {
            rc = Z_DATA_ERROR;
            break;
        }
        if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
            rc = Z_BUF_ERROR;  // the body ended inside the stream
            break;
        }
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END) return std::nullopt;
    return out;
}

// Retry-After: delta-seconds or an HTTP date (RFC 9110 §10.2.3); nullopt when absent or unreadable.
std::optional<core::duration> retry_after(std::string_view value) {
    if (value.empty()) return std::nullopt;
    std::uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc{} && end == value.data() + value.size())
        return std::chrono::seconds(std::min<std::uint64_t>(seconds, 86400));
    auto at = core::parse_rfc822(value);
    if (!at) return std::nullopt;
    const auto now = std::chrono::time_point_cast<core::duration>(std::chrono::system_clock::now());
    return *at > now ? std::min<core::duration>(*at - now, std::chrono::hours(24)) : core::duration::zero();
}

}  // namespace

struct feed_source::impl : std::enable_shared_from_this<impl> {
    asio::strand<asio::any_io_executor> strand;
    feed_source_settings settings;
    document_handler on_document;
    source_events& events;
    std::atomic<bool> stopped{false};
    bool started = false;
    asio::steady_timer wait_timer;
    std::string etag, last_modified;
    bool up = false;

    impl(asio::any_io_executor ex, feed_source_settings s, document_handler h, source_events& e)
        : strand(asio::make_strand(ex)), settings(std::move(s)), on_document(std::move(h)), events(e), wait_timer(strand),
          etag(settings.etag), last_modified(settings.last_modified) {}

    void log(core::log_level level, const std::string& text) const {
        core::log(level, "source " + settings.name + ": " + text);
    }

    void set_up(bool now_up) {
        if (now_up == up) return;
        up = now_up;
        events.on_connected(up);
    }

    net::http_request request() const {
        net::http_request r;
        r.method = "GET";
        r.url = settings.url;
        r.timeout = settings.timeout;
        r.headers.emplace_back("Accept",
                               "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1");
        r.headers.emplace_back("Accept-Encoding", "gzip");
        r.headers.emplace_back("User-Agent", "crisisd (feed reader)");
        if (!etag.empty()) r.headers.emplace_back("If-None-Match", etag);
        if (!last_modified.empty()) r.headers.emplace_back("If-Modified-Since", last_modified);
        return r;
    }

    // One poll; returns how long to wait before the next, or nullopt to stop for good.
    asio::awaitable<std::optional<core::duration>> poll(net::http_client& client, net::backoff& errors) {
        const auto interval = settings.interval;
        auto after_error = [&] { return std::max(interval, errors.next()); };
        auto response = co_await client.send(request());
        if (stopped) co_return std::nullopt;
        if (!response.error.empty()) {
            log(core::log_level::warning, "cannot fetch " + settings.url + ": " + response.error);
            set_up(false);
            co_return after_error();
        }
        const int status = response.status;
        if (status == 304) {
            errors.reset();
            set_up(true);
            co_return interval;
        }
        if (status == 429 || status == 503) {
            set_up(false);
            auto wait = retry_after(response.header("Retry-After"));
            log(core::log_level::warning, "the server answered " + std::to_string(status) +
                                              (wait ? "; next poll after its Retry-After" : "; backing off"));
            co_return wait ? std::max(interval, *wait) : after_error();
        }
        if (status == 401 || status == 403 || status == 410) {
            set_up(false);
            events.on_fatal("the server answered HTTP " + std::to_string(status) + " for " + settings.url);
            co_return std::nullopt;
        }
        if (status != 200) {
            log(core::log_level::warning, "the server answered HTTP " + std::to_string(status));
            set_up(false);
            co_return after_error();
        }
        std::string body = std::move(response.body);
        const auto encoding = response.header("Content-Encoding");
        if (encoding == "gzip" || encoding == "x-gzip") {
            auto inflated = inflate_gzip(body, settings.max_document_bytes);
            if (!inflated) {
                events.on_frame_rejected("bad_encoding");
                log(core::log_level::warning, "a gzip body that does not inflate (or inflates past the size limit)");
                co_return after_error();
            }
            body = std::move(*inflated);
        } else if (!encoding.empty() && encoding != "identity") {
            events.on_frame_rejected("bad_encoding");
            log(core::log_level::warning, "an unrequested Content-Encoding: " + encoding);
            co_return after_error();
        }
        if (body.size() > settings.max_document_bytes) {
            events.on_frame_rejected("oversized");
            co_return after_error();
        }
        // Remembered only from a whole, accepted answer: a validator of a document that was not
        // read would make the server answer 304 to it forever.
        etag = response.header("ETag");
        last_modified = response.header("Last-Modified");
        errors.reset();
        set_up(true);
        try {
            on_document(body);
        } catch (const std::exception& e) {
            log(core::log_level::error, std::string("document handler threw: ") + e.what());
        }
        co_return interval;
    }

    asio::awaitable<void> run() {
        auto self = shared_from_this();
        net::http_client client(strand, net::tls_options{settings.ca_file});
        net::backoff errors(std::chrono::seconds(1), settings.backoff_max, std::random_device{}());
        while (!stopped) {
            auto wait = co_await poll(client, errors);
            if (!wait || stopped) break;
            wait_timer.expires_after(*wait);
            co_await wait_timer.async_wait(nothrow);
        }
    }
};

feed_source::feed_source(asio::any_io_executor ex, feed_source_settings settings, document_handler on_document,
                         source_events& events)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(settings), std::move(on_document), events)) {}

feed_source::~feed_source() { stop(); }

void feed_source::start() {
    if (impl_->started) return;
    impl_->started = true;
    asio::co_spawn(impl_->strand, impl_->run(), net::detail::log_completion{"source " + impl_->settings.name});
}

feed_source::validators feed_source::last_validators() const { return {impl_->etag, impl_->last_modified}; }

void feed_source::stop() {
    if (impl_->stopped.exchange(true)) return;
    asio::post(impl_->strand, [self = impl_] { self->wait_timer.cancel(); });
}

}  // namespace crisisd::ingest
