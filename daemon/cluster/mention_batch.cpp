#include "cluster/mention_batch.hpp"

#include <algorithm>
#include <map>

namespace crisisd::cluster {
namespace {

constexpr std::uint8_t flag_counts = 1, flag_html = 2, flag_vouched = 4, flag_created = 8;
constexpr std::uint8_t known_flags = flag_counts | flag_html | flag_vouched | flag_created;

void put_string(std::string& out, std::string_view s) {
    auto n = static_cast<std::uint64_t>(s.size());
    do {
        auto byte = static_cast<unsigned char>(n & 0x7f);
        n >>= 7;
        if (n) byte |= 0x80;
        out.push_back(static_cast<char>(byte));
    } while (n);
    out.append(s);
}

// A string's length, or nullopt: more than 5 bytes, or longer than what is left.
std::optional<std::size_t> take_length(std::string_view& in) {
    std::uint64_t n = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        if (in.empty()) return std::nullopt;
        const auto byte = static_cast<unsigned char>(in.front());
        in.remove_prefix(1);
        n |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            if (n > in.size()) return std::nullopt;
            return static_cast<std::size_t>(n);
        }
    }
    return std::nullopt;
}

// Walks one entry without keeping it: false at damage.
bool skip_entry(std::string_view& in) {
    if (in.empty()) return false;
    const auto flags = static_cast<std::uint8_t>(in.front());
    in.remove_prefix(1);
    if (flags & ~known_flags) return false;
    if (flags & flag_created) {
        if (in.size() < 8) return false;
        in.remove_prefix(8);
    }
    for (int i = 0; i < 7; ++i) {
        auto n = take_length(in);
        if (!n || (i < 2 && *n == 0)) return false;   // id and source are required
        in.remove_prefix(*n);
    }
    return true;
}

}  // namespace

std::string encode_batch_entry(const core::mention& m, bool counts) {
    std::string out;
    out.reserve(m.id.size() + m.source.size() + m.text.size() + m.network.size() + m.author.size() + m.lang.size() +
                m.url.size() + 24);
    std::uint8_t flags = (counts ? flag_counts : 0) | (m.html ? flag_html : 0) | (m.author_vouched ? flag_vouched : 0) |
                         (m.created_at ? flag_created : 0);
    out.push_back(static_cast<char>(flags));
    if (m.created_at) {
        const auto us = static_cast<std::uint64_t>(m.created_at->time_since_epoch().count());
        for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((us >> (8 * i)) & 0xff));
    }
    for (std::string_view s : {std::string_view(m.id), std::string_view(m.source), std::string_view(m.text),
                               std::string_view(m.network), std::string_view(m.author), std::string_view(m.lang),
                               std::string_view(m.url)})
        put_string(out, s);
    return out;
}

void set_entry_counts(std::string& entry, bool counts) {
    if (entry.empty()) return;
    auto flags = static_cast<std::uint8_t>(entry.front());
    flags = counts ? (flags | flag_counts) : (flags & static_cast<std::uint8_t>(~flag_counts));
    entry.front() = static_cast<char>(flags);
}

batch_reader::batch_reader(std::string_view bytes) : rest_(bytes) {
    if (rest_.substr(0, batch_magic.size()) != batch_magic) {
        damaged_ = true;
        rest_ = {};
        return;
    }
    rest_.remove_prefix(batch_magic.size());
}

bool batch_reader::read_string(std::string& out) {
    auto n = take_length(rest_);
    if (!n) return false;
    out.assign(rest_.data(), *n);
    rest_.remove_prefix(*n);
    return true;
}

bool batch_reader::next(core::mention& m, bool& counts) {
    m.clear();
    counts = false;
    if (damaged_ || rest_.empty()) return false;
    const auto flags = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    bool ok = !(flags & ~known_flags);
    if (ok && (flags & flag_created)) {
        if (rest_.size() < 8) {
            ok = false;
        } else {
            std::uint64_t us = 0;
            for (int i = 0; i < 8; ++i) us |= static_cast<std::uint64_t>(static_cast<unsigned char>(rest_[static_cast<std::size_t>(i)])) << (8 * i);
            rest_.remove_prefix(8);
            m.created_at = core::timestamp(core::duration(static_cast<std::int64_t>(us)));
        }
    }
    ok = ok && read_string(m.id) && read_string(m.source) && read_string(m.text) && read_string(m.network) &&
         read_string(m.author) && read_string(m.lang) && read_string(m.url) && !m.id.empty() && !m.source.empty();
    if (!ok) {
        damaged_ = true;
        rest_ = {};
        m.clear();
        return false;
    }
    counts = flags & flag_counts;
    m.html = flags & flag_html;
    m.author_vouched = flags & flag_vouched;
    return true;
}

std::optional<std::size_t> count_batch(std::string_view bytes) {
    if (bytes.substr(0, batch_magic.size()) != batch_magic) return std::nullopt;
    bytes.remove_prefix(batch_magic.size());
    std::size_t n = 0;
    while (!bytes.empty()) {
        if (!skip_entry(bytes)) return std::nullopt;
        ++n;
    }
    return n;
}

std::vector<packed_batch> pack_batches(const std::vector<batch_entry>& entries, std::size_t max_bytes,
                                       std::size_t& too_large) {
    std::vector<packed_batch> out;
    std::map<int, std::size_t> open;   // partition -> its message still being filled
    for (const auto& e : entries) {
        if (e.bytes.size() + batch_magic.size() > max_bytes) {
            ++too_large;
            continue;
        }
        auto it = open.find(e.partition);
        if (it == open.end() || out[it->second].payload.size() + e.bytes.size() > max_bytes) {
            packed_batch b;
            b.partition = e.partition;
            b.payload.reserve(std::min<std::size_t>(max_bytes, 64 * 1024));
            b.payload.append(batch_magic);
            out.push_back(std::move(b));
            open[e.partition] = out.size() - 1;
            it = open.find(e.partition);
        }
        auto& b = out[it->second];
        b.payload.append(e.bytes);
        ++b.mentions;
    }
    return out;
}

}  // namespace crisisd::cluster
