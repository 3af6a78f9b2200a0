#include "parse/feed.hpp"

#include <expat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <vector>

namespace crisisd::parse {
namespace {

// expat reports namespaced names as "<uri>|<local>"; RSS 2.0's own elements have no namespace.
constexpr char ns_separator = '|';
constexpr std::string_view atom_ns = "http://www.w3.org/2005/Atom|";
constexpr std::string_view dc_creator = "http://purl.org/dc/elements/1.1/|creator";
constexpr std::string_view content_encoded = "http://purl.org/rss/1.0/modules/content/|encoded";

enum class dialect { unknown, rss, atom };

// The fields of the item being read, as the document spells them; which one wins is decided when
// the item ends (content over summary, guid over link, …).
struct raw_item {
    std::string guid, id, title, link, alternate_link, description, encoded, content, summary, rss_author, creator,
        author_name, pub_date, published, updated;
    bool content_html = false, summary_html = false;
    void clear() { *this = raw_item{}; }
};

// Cuts at most `limit` bytes from the end of text without splitting a UTF-8 sequence.
void cut_utf8(std::string& text, std::size_t limit) {
    if (text.size() <= limit) return;
    std::size_t end = limit;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text.resize(end);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

bool html_type(const XML_Char** attrs) {
    for (std::size_t i = 0; attrs[i]; i += 2)
        if (std::string_view(attrs[i]) == "type") {
            const std::string_view t = attrs[i + 1];
            return t == "html" || t == "text/html";
        }
    return false;
}

std::string_view attribute(const XML_Char** attrs, std::string_view name) {
    for (std::size_t i = 0; attrs[i]; i += 2)
        if (std::string_view(attrs[i]) == name) return attrs[i + 1];
    return {};
}

class reader {
public:
    reader(const feed_limits& limits, feed_document& out) : limits_(limits), out_(out) {
        parser_ = XML_ParserCreateNS(nullptr, ns_separator);
    }
    ~reader() {
        if (parser_) XML_ParserFree(parser_);
    }
    reader(const reader&) = delete;
    reader& operator=(const reader&) = delete;

    void run(std::string_view xml) {
        if (!parser_) {
            fail(feed_error::malformed, "out of memory");
            return;
        }
        XML_SetUserData(parser_, this);
        // No external DTD subset or parameter entity is ever read, and any entity declaration
        // stops the parse (on_entity_decl): nothing is expanded but the predefined entities.
        XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);
        XML_SetEntityDeclHandler(parser_, &reader::on_entity_decl);
        XML_SetStartDoctypeDeclHandler(parser_, &reader::on_doctype);
        XML_SetSkippedEntityHandler(parser_, &reader::on_skipped_entity);
        XML_SetElementHandler(parser_, &reader::on_start, &reader::on_end);
        XML_SetCharacterDataHandler(parser_, &reader::on_text);
        if (XML_Parse(parser_, xml.data(), static_cast<int>(xml.size()), XML_TRUE) == XML_STATUS_ERROR &&
            out_.error == feed_error::none) {
            fail(feed_error::malformed, std::string(XML_ErrorString(XML_GetErrorCode(parser_))) + " at line " +
                                            std::to_string(XML_GetCurrentLineNumber(parser_)));
        }
        if (out_.error == feed_error::none && root_ == dialect::unknown)
            fail(feed_error::not_a_feed, "the root element is neither <rss> nor Atom <feed>");
        if (out_.error != feed_error::none) out_.items.clear();
    }

private:
    void fail(feed_error e, std::string detail) {
        if (out_.error != feed_error::none) return;
        out_.error = e;
        out_.detail = std::move(detail);
        XML_StopParser(parser_, XML_FALSE);
    }

    static void on_entity_decl(void* self, const XML_Char* name, int, const XML_Char*, int, const XML_Char*,
                               const XML_Char*, const XML_Char*, const XML_Char*) {
        static_cast<reader*>(self)->fail(feed_error::entities,
                                         std::string("the document declares the entity '") + name +
                                             "'; feeds with entity declarations are refused unexpanded");
    }

    // An external DTD is never fetched; a document that names one is refused like one that
    // declares entities, since its entity references would be skipped silently otherwise.
    static void on_doctype(void* self, const XML_Char*, const XML_Char* sysid, const XML_Char*, int) {
        if (sysid)
            static_cast<reader*>(self)->fail(feed_error::entities,
                                             std::string("the document names an external DTD (") + sysid +
                                                 "); it is not loaded and the feed is refused");
    }
    static void on_skipped_entity(void* self, const XML_Char* name, int) {
        static_cast<reader*>(self)->fail(feed_error::entities,
                                         std::string("the document refers to the undeclared entity '") + name + "'");
    }

    static void on_start(void* self, const XML_Char* name, const XML_Char** attrs) {
        static_cast<reader*>(self)->start(name, attrs);
    }
    static void on_end(void* self, const XML_Char*) { static_cast<reader*>(self)->end(); }
    static void on_text(void* self, const XML_Char* s, int len) {
        auto* r = static_cast<reader*>(self);
        if (!r->capture_) return;
        const std::size_t room = r->limits_.max_field_bytes + 4 - std::min(r->capture_->size(), r->limits_.max_field_bytes + 4);
        r->capture_->append(s, std::min(static_cast<std::size_t>(len), room));
    }

    void start(std::string_view name, const XML_Char** attrs) {
        ++depth_;
        if (depth_ == 1) {
            if (name == "rss") root_ = dialect::rss;
            else if (name == std::string(atom_ns) + "feed") root_ = dialect::atom;
            else fail(feed_error::not_a_feed, "the root element is <" + std::string(name) + ">, not <rss> or Atom <feed>");
            return;
        }
        if (item_depth_ == 0) {
            const bool opens = root_ == dialect::rss ? name == "item" : name == std::string(atom_ns) + "entry";
            if (opens) {
                if (out_.items.size() >= limits_.max_items) {
                    fail(feed_error::too_many_items, "more than " + std::to_string(limits_.max_items) + " items");
                    return;
                }
                item_depth_ = depth_;
                item_.clear();
            }
            return;
        }
        if (capture_) return;  // markup inside a captured field (Atom xhtml content): its text counts
        if (depth_ == item_depth_ + 1) {
            capture_depth_ = depth_;
            capture_ = root_ == dialect::rss ? rss_field(name) : atom_field(name, attrs);
        } else if (depth_ == item_depth_ + 2 && in_author_ && name == std::string(atom_ns) + "name") {
            capture_depth_ = depth_;
            capture_ = &item_.author_name;
        }
    }

    std::string* rss_field(std::string_view name) {
        if (name == "guid") return &item_.guid;
        if (name == "title") return &item_.title;
        if (name == "link") return &item_.link;
        if (name == "description") return &item_.description;
        if (name == content_encoded) return &item_.encoded;
        if (name == "author") return &item_.rss_author;
        if (name == dc_creator) return &item_.creator;
        if (name == "pubDate") return &item_.pub_date;
        return nullptr;
    }

    std::string* atom_field(std::string_view name, const XML_Char** attrs) {
        if (!name.starts_with(atom_ns)) return nullptr;
        name.remove_prefix(atom_ns.size());
        if (name == "id") return &item_.id;
        if (name == "title") return &item_.title;
        if (name == "published") return &item_.published;
        if (name == "updated") return &item_.updated;
        if (name == "content") {
            item_.content_html = html_type(attrs);
            return &item_.content;
        }
        if (name == "summary") {
            item_.summary_html = html_type(attrs);
            return &item_.summary;
        }
        if (name == "link") {
            const auto rel = attribute(attrs, "rel");
            if ((rel.empty() || rel == "alternate") && item_.alternate_link.empty())
                item_.alternate_link = attribute(attrs, "href");
            return nullptr;
        }
        if (name == "author") {
            in_author_ = true;
            author_depth_ = depth_;
        }
        return nullptr;
    }

    void end() {
        if (capture_ && depth_ == capture_depth_) capture_ = nullptr;
        if (in_author_ && depth_ == author_depth_) in_author_ = false;
        if (item_depth_ != 0 && depth_ == item_depth_) {
            finish_item();
            item_depth_ = 0;
        }
        --depth_;
    }

    void finish_item() {
        feed_item it;
        auto& r = item_;
        it.title = trim(r.title);
        if (root_ == dialect::rss) {
            it.link = trim(r.link);
            it.id = trim(r.guid);
            it.body = !trim(r.encoded).empty() ? r.encoded : r.description;
            it.body_html = true;
            it.author = trim(!trim(r.creator).empty() ? r.creator : r.rss_author);
            if (auto t = trim(r.pub_date); !t.empty()) it.published = core::parse_rfc822(t);
        } else {
            it.link = trim(r.alternate_link);
            it.id = trim(r.id);
            const bool has_content = !trim(r.content).empty();
            it.body = has_content ? r.content : r.summary;
            it.body_html = has_content ? r.content_html : r.summary_html;
            it.author = trim(r.author_name);
            auto t = trim(!trim(r.published).empty() ? r.published : r.updated);
            if (!t.empty()) it.published = core::parse_rfc3339(t);
        }
        if (it.id.empty()) it.id = it.link;
        it.body = std::string(trim(it.body));
        for (auto* s : {&it.title, &it.body, &it.author, &it.link, &it.id}) cut_utf8(*s, limits_.max_field_bytes);
        out_.items.push_back(std::move(it));
    }

    const feed_limits& limits_;
    feed_document& out_;
    XML_Parser parser_ = nullptr;
    dialect root_ = dialect::unknown;
    int depth_ = 0;
    int item_depth_ = 0;  // depth of the open <item>/<entry>; 0 outside one
    std::string* capture_ = nullptr;
    int capture_depth_ = 0;
    bool in_author_ = false;
    int author_depth_ = 0;
    raw_item item_;
};

}  // namespace

feed_document read_feed(std::string_view xml, const feed_limits& limits) {
    feed_document out;
    if (xml.size() > limits.max_bytes) {
        out.error = feed_error::oversized;
        out.detail = std::to_string(xml.size()) + " bytes, over the limit of " + std::to_string(limits.max_bytes);
        return out;
    }
    reader r(limits, out);
    r.run(xml);
    return out;
}

}  // namespace crisisd::parse
