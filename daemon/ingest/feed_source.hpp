#pragma once
// The `feed` source's transport: polls one RSS or Atom URL every `interval` and hands each new
// document to a handler (which reads the items; see sources/feed_intake.hpp). HTTP as a polite
// feed reader speaks it (RFC 9110/9111): conditional GET with the last ETag (If-None-Match) and
// Last-Modified (If-Modified-Since), so an unchanged feed costs a 304 and no parsing; gzip
// accepted and inflated up to the size limit; on 429 and 503 the next poll waits for
// Retry-After (seconds or an HTTP date) when that is longer than the interval; network errors
// and other statuses back off exponentially (never polling sooner than the interval); 401, 403
// and 410 stop the source with a reason, since asking again cannot help.
//
// Thread-safety: runs on a strand of the given executor; the handler and the events are called
// there. start()/stop() from the executor's thread or before it runs.
#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/time.hpp"
#include "ingest/source.hpp"

namespace crisisd::ingest {

struct feed_source_settings {
    std::string name;
    std::string url;      // http:// or https://
    std::string ca_file;  // https: extra trust anchor
    core::duration interval = std::chrono::seconds(60);
    core::duration backoff_max = std::chrono::minutes(30);  // the longest wait after errors
    std::size_t max_document_bytes = 8 << 20;                // after inflating
    std::chrono::milliseconds timeout{30000};
    // The validators of a document read before (a moved feed's last holder's): the first request
    // is conditional on them.
    std::string etag, last_modified;
};

class feed_source {
public:
    // Called with each document that changed since the last poll (a 200 answer), inflated.
    using document_handler = std::function<void(std::string_view document)>;

    feed_source(boost::asio::any_io_executor ex, feed_source_settings settings, document_handler on_document,
                source_events& events);
    ~feed_source();  // stop()
    feed_source(const feed_source&) = delete;
    feed_source& operator=(const feed_source&) = delete;

    void start();
    void stop();
    // The validators of the last document handed on (ETag, Last-Modified). On the executor's
    // thread, as the handler runs: after the handler, they are that document's.
    struct validators {
        std::string etag, last_modified;
    };
    validators last_validators() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace crisisd::ingest
