#include "config/detail/reader.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include "config/detail/secrets.hpp"

namespace crisisd::config::detail {

namespace {

std::string quote_value(std::string_view s) {
    constexpr std::size_t limit = 60;
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < limit; ++i) {
        const char c = s[i];
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += '?';
        } else {
            out += c;
        }
    }
    if (s.size() > limit) out += "...";
    out += '"';
    return out;
}

std::string format_number(double v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    if (ec != std::errc{}) return std::to_string(v);
    return std::string(buf, end);
}

std::string join(std::span<const std::string_view> words) {
    std::string out;
    for (auto w : words) {
        if (!out.empty()) out += ", ";
        out += w;
    }
    return out;
}

std::string quote_key(std::string_view key) { return "'" + std::string(key) + "'"; }

}  // namespace

location value_at(const context& ctx, const field& f) {
    if (!f.value || f.value.IsNull()) return ctx.at(f.key_node);
    return ctx.at(f.value);
}

std::string shown(const YAML::Node& node) {
    if (!node || node.IsNull()) return "nothing";
    if (node.IsSequence()) return "a list";
    if (node.IsMap()) return "a mapping";
    return quote_value(node.Scalar());
}

mapping::mapping(context& ctx, const YAML::Node& node, const location& where, std::string subject,
                 std::initializer_list<std::string_view> known)
    : ctx_(ctx), where_(where), owner_(subject) {
    if (!node || node.IsNull()) {
        valid_ = true;  // an empty mapping: its required keys are reported as missing
        return;
    }
    if (!node.IsMap()) {
        ctx.error(where, subject + " must be a mapping (got " + shown(node) + ")");
        return;
    }
    valid_ = true;
    std::vector<std::string> candidates(known.begin(), known.end());
    // Range-for keeps each key/value pair alive; yaml-cpp's it->first is a short-lived proxy.
    for (const auto& pair : node) {
        const YAML::Node& key = pair.first;
        if (!key.IsScalar()) {
            ctx.error(ctx.at(key), "keys must be plain names (got " + shown(key) + ")");
            continue;
        }
        const std::string& name = key.Scalar();
        bool is_known = false;
        for (auto k : known) is_known = is_known || k == name;
        if (!is_known) {
            ctx.error(ctx.at(key), "unknown key '" + name + "'" + suggestion(name, candidates));
            continue;
        }
        bool duplicate = false;
        for (const auto& f : fields_) duplicate = duplicate || f.key == name;
        if (duplicate) {
            ctx.error(ctx.at(key), "duplicate key '" + name + "'");
            continue;
        }
        fields_.push_back(field{name, key, pair.second});
    }
}

mapping::mapping(context& ctx, const field& f, std::initializer_list<std::string_view> known)
    : mapping(ctx, f.value, value_at(ctx, f), quote_key(f.key), known) {}

const field* mapping::find(std::string_view key) const {
    for (const auto& f : fields_) {
        if (f.key == key) return &f;
    }
    return nullptr;
}

const field* mapping::require(std::string_view key) const {
    const field* f = find(key);
    if (f == nullptr && valid_) {
        ctx_.error(where_, "missing '" + std::string(key) + "' in " + owner_);
    }
    return f;
}

std::optional<std::string> read_string(context& ctx, const field& f) {
    if (!f.value || !f.value.IsScalar()) {
        ctx.error(value_at(ctx, f), quote_key(f.key) + " must be a string (got " + shown(f.value) + ")");
        return std::nullopt;
    }
    return f.value.Scalar();
}

std::optional<std::string> read_name(context& ctx, const field& f) {
    auto s = read_string(ctx, f);
    if (!s) return std::nullopt;
    bool ok = !s->empty();
    for (char c : *s) {
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.');
    }
    if (!ok) {
        ctx.error(value_at(ctx, f), quote_key(f.key) +
                                        " must be a name of letters, digits, '-', '_' and '.' (got " +
                                        quote_value(*s) + ")");
        return std::nullopt;
    }
    return s;
}

std::optional<std::vector<std::string>> read_string_list(context& ctx, const field& f,
                                                         bool allow_single) {
    std::vector<std::string> out;
    if (allow_single && f.value && f.value.IsScalar()) {
        if (f.value.Scalar().empty()) {
            ctx.error(value_at(ctx, f), quote_key(f.key) + " must not be empty");
            return std::nullopt;
        }
        out.push_back(f.value.Scalar());
        return out;
    }
    if (!f.value || !f.value.IsSequence()) {
        ctx.error(value_at(ctx, f),
                  quote_key(f.key) + " must be a list of strings (got " + shown(f.value) + ")");
        return std::nullopt;
    }
    bool ok = true;
    for (const auto& item : f.value) {
        if (!item.IsScalar() || item.Scalar().empty()) {
            ctx.error(item.IsNull() ? value_at(ctx, f) : ctx.at(item),
                      "each entry of " + quote_key(f.key) + " must be a non-empty string (got " +
                          shown(item) + ")");
            ok = false;
            continue;
        }
        out.push_back(item.Scalar());
    }
    if (!ok) return std::nullopt;
    return out;
}

std::optional<core::duration> read_duration(context& ctx, const field& f, bool allow_zero,
                                            std::string_view example) {
    std::optional<core::duration> d;
    if (f.value && f.value.IsScalar()) d = core::parse_duration(f.value.Scalar());
    if (!d || d->count() < 0) {
        ctx.error(value_at(ctx, f), quote_key(f.key) + " must be a duration like " +
                                        std::string(example) + " (got " + shown(f.value) + ")");
        return std::nullopt;
    }
    if (!allow_zero && d->count() == 0) {
        ctx.error(value_at(ctx, f), quote_key(f.key) + " must be longer than 0");
        return std::nullopt;
    }
    return d;
}

std::optional<double> read_number(context& ctx, const field& f, double min, double max) {
    std::optional<double> v;
    if (f.value && f.value.IsScalar()) {
        const std::string& s = f.value.Scalar();
        double parsed = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
        if (ec == std::errc{} && end == s.data() + s.size() && std::isfinite(parsed)) v = parsed;
    }
    if (!v || *v < min || *v > max) {
        std::string range;
        if (max == std::numeric_limits<double>::max()) {
            range = "of at least " + format_number(min);
        } else {
            range = "from " + format_number(min) + " to " + format_number(max);
        }
        ctx.error(value_at(ctx, f),
                  quote_key(f.key) + " must be a number " + range + " (got " + shown(f.value) + ")");
        return std::nullopt;
    }
    return v;
}

std::optional<std::uint64_t> read_integer(context& ctx, const field& f, std::uint64_t min,
                                          std::uint64_t max) {
    std::optional<std::uint64_t> v;
    if (f.value && f.value.IsScalar()) {
        const std::string& s = f.value.Scalar();
        std::uint64_t parsed = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
        if (ec == std::errc{} && end == s.data() + s.size() && !s.empty()) v = parsed;
    }
    if (!v || *v < min || *v > max) {
        std::string range = max == std::numeric_limits<std::uint64_t>::max()
                                ? "of at least " + std::to_string(min)
                                : "from " + std::to_string(min) + " to " + std::to_string(max);
        ctx.error(value_at(ctx, f), quote_key(f.key) + " must be a whole number " + range +
                                        " (got " + shown(f.value) + ")");
        return std::nullopt;
    }
    return v;
}

std::optional<std::size_t> read_choice(context& ctx, const field& f,
                                       std::initializer_list<std::string_view> choices) {
    return read_choice(ctx, f, std::span<const std::string_view>(choices.begin(), choices.size()));
}

std::optional<std::size_t> read_choice(context& ctx, const field& f, std::span<const std::string_view> choices) {
    if (f.value && f.value.IsScalar()) {
        std::size_t i = 0;
        for (auto c : choices) {
            if (c == f.value.Scalar()) return i;
            ++i;
        }
    }
    ctx.error(value_at(ctx, f), quote_key(f.key) + " must be one of " + join(choices) + " (got " +
                                    shown(f.value) + ")");
    return std::nullopt;
}

std::optional<std::string> read_secret(context& ctx, const field& f, bool must_be_reference) {
    auto raw = read_string(ctx, f);
    if (!raw) return std::nullopt;
    expanded_secret s = expand_secrets(*raw, ctx.doc().dir());
    for (const auto& p : s.problems) ctx.error(ctx.doc().inside(f.value, p.offset), p.message);
    if (must_be_reference && !s.only_reference && s.problems.empty() && !raw->empty()) {
        ctx.error(value_at(ctx, f), quote_key(f.key) +
                                        " must not be written literally; write the token as "
                                        "${env:NAME} or ${file:PATH}");
        return std::nullopt;
    }
    if (!s.problems.empty()) return std::nullopt;
    return s.value;
}

bool mentions_secret(const field& f) {
    return f.value && f.value.IsScalar() && f.value.Scalar().find("${") != std::string::npos;
}

std::string resolve_path(const context& ctx, const std::string& path) {
    if (path.empty()) return path;
    std::filesystem::path p(path);
    if (p.is_absolute() || ctx.doc().dir().empty()) return path;
    return (ctx.doc().dir() / p).lexically_normal().string();
}

}  // namespace crisisd::config::detail
