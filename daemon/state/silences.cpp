#include "state/silences.hpp"

#include <charconv>
#include <optional>
#include <string_view>

namespace crisisd::state {
namespace {

constexpr std::string_view prefix = "silence/";

std::optional<silence> parse(std::string_view name, std::string_view value) {
    name.remove_prefix(prefix.size());
    const auto slash = name.find('/');
    const auto space = value.find(' ');
    if (slash == std::string_view::npos || space == std::string_view::npos) return std::nullopt;
    std::int64_t us = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + space, us);
    if (ec != std::errc{} || end != value.data() + space) return std::nullopt;
    return silence{std::string(name.substr(0, slash)), std::string(name.substr(slash + 1)),
                   std::string(value.substr(space + 1)), detail::from_micros(us)};
}

}  // namespace

bool silence_store::save(const silence& s) {
    return meta_.set(std::string(prefix) + s.rule + "/" + s.key, std::to_string(detail::micros(s.until)) + " " + s.who);
}

std::vector<silence> silence_store::running(core::timestamp now, std::size_t& unreadable) {
    std::vector<silence> out;
    unreadable = 0;
    for (const auto& [name, value] : meta_.with_prefix(prefix)) {
        auto s = parse(name, value);
        if (!s) ++unreadable;
        else if (s->until > now) out.push_back(std::move(*s));
    }
    return out;
}

std::size_t silence_store::forget_ended(core::timestamp now) {
    std::size_t n = 0;
    for (const auto& [name, value] : meta_.with_prefix(prefix))
        if (auto s = parse(name, value); s && s->until <= now && meta_.erase(name)) ++n;
    return n;
}

bool silence_store::shift(core::duration delta, core::timestamp now) {
    std::size_t unreadable = 0;
    bool ok = true;
    for (auto s : running(now, unreadable)) {
        s.until += delta;
        ok = save(s) && ok;
    }
    return ok;
}

}  // namespace crisisd::state
