#include "sources/source_cursor.hpp"

#include <boost/json.hpp>

namespace crisisd::sources {

namespace json = boost::json;

std::string encode_source_cursor(const source_cursor& c) {
    json::object o;
    o["v"] = 1;
    o["holder"] = c.holder;
    if (c.position > 0) o["position"] = c.position;
    if (c.polled) o["polled"] = true;
    if (!c.etag.empty()) o["etag"] = c.etag;
    if (!c.last_modified.empty()) o["last_modified"] = c.last_modified;
    if (!c.items.empty()) {
        json::array a;
        // The newest ones when there are too many: those are what a feed still lists.
        const std::size_t from = c.items.size() > shared_item_limit ? c.items.size() - shared_item_limit : 0;
        for (std::size_t i = from; i < c.items.size(); ++i) a.emplace_back(c.items[i]);
        o["items"] = std::move(a);
    }
    return json::serialize(o);
}

std::optional<source_cursor> decode_source_cursor(std::string_view text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    const auto* version = o.if_contains("v");
    if (!version || !version->is_int64() || version->get_int64() != 1) return std::nullopt;
    source_cursor c;
    auto text_of = [&](const char* k, std::string& out) {
        const auto* f = o.if_contains(k);
        if (!f) return true;
        if (!f->is_string()) return false;
        out = std::string(f->get_string());
        return true;
    };
    if (!text_of("holder", c.holder) || !text_of("etag", c.etag) || !text_of("last_modified", c.last_modified))
        return std::nullopt;
    if (const auto* p = o.if_contains("position")) {
        if (!p->is_int64() || p->get_int64() < 0) return std::nullopt;
        c.position = p->get_int64();
    }
    if (const auto* p = o.if_contains("polled")) {
        if (!p->is_bool()) return std::nullopt;
        c.polled = p->get_bool();
    }
    if (const auto* a = o.if_contains("items")) {
        if (!a->is_array()) return std::nullopt;
        for (const auto& id : a->get_array()) {
            if (!id.is_string()) return std::nullopt;
            c.items.emplace_back(id.get_string());
        }
    }
    return c;
}

}  // namespace crisisd::sources
