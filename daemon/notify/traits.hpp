#pragma once
// What each channel type is, in one table: which config keys it takes and requires, which of
// them hold secrets, whether it posts public statements (and how the network counts their
// length), and which incident events it follows on its own. config/ reads it to check a channel
// entry, the daemon to know which channels learn of an acknowledgement or a resolution; nothing
// else compares type names. Constant data in a header, so config/ reads it without linking
// notify/'s network code; safe from any thread.
#include <array>
#include <span>
#include <string_view>

#include "incident/names.hpp"
#include "text/post_length.hpp"

namespace crisisd::notify {

// How a key's value may carry a secret.
enum class secret_use {
    none,       // plain text
    may_refer,  // may contain ${env:NAME} / ${file:PATH} (a URL with a key in it)
    must_refer, // a credential: only ever a reference, never written literally
};

// A key of a channel entry that only some types take.
struct channel_key {
    std::string_view name;
    bool required = false;
    secret_use secret = secret_use::none;
};

struct channel_traits {
    std::string_view type;  // the config's `type`, and channel::type()
    // Speaks HTTP: takes `ca_file`, and its endpoint in `url` (or `base_url` when it posts).
    bool http = false;
    // A public account on a network (`base_url`): statements posted there have a text limit.
    bool posts_statements = false;
    text::length_rule length = text::length_rule::code_points;
    // Learns of an incident's acknowledgement / resolution on its own, when it was paged for the
    // incident, even when the playbook names no such step (else the page would stay open there).
    bool follows_acknowledge = false;
    bool follows_resolve = false;
    // The type-specific keys this type takes (beyond name, type, timeout, retry,
    // statements_per_hour, which every type takes, and ca_file for http).
    std::span<const channel_key> keys;

    const channel_key* key(std::string_view name) const {
        for (const auto& k : keys)
            if (k.name == name) return &k;
        return nullptr;
    }
    // Whether a channel of this type learns of `event` (acknowledged, resolved) on its own.
    bool follows(incident::action_event event) const {
        return (event == incident::action_event::acknowledged && follows_acknowledge) ||
               (event == incident::action_event::resolved && follows_resolve);
    }
};

namespace detail {
constexpr secret_use plain = secret_use::none, may_refer = secret_use::may_refer, must_refer = secret_use::must_refer;
inline constexpr channel_key webhook_keys[] = {{"url", true, may_refer}, {"headers", false, may_refer}};
inline constexpr channel_key file_keys[] = {{"path", true, plain}};
inline constexpr channel_key slack_keys[] = {{"url", true, may_refer}};
inline constexpr channel_key pagerduty_keys[] = {{"url", false, may_refer}, {"routing_key", true, must_refer}};
inline constexpr channel_key alertmanager_keys[] = {{"url", true, may_refer}};
inline constexpr channel_key mastodon_keys[] = {
    {"base_url", true, plain}, {"token", true, must_refer}, {"visibility", false, plain}};
inline constexpr channel_key bluesky_keys[] = {
    {"base_url", false, plain}, {"identifier", true, plain}, {"password", true, must_refer}};
inline constexpr channel_key facebook_keys[] = {
    {"base_url", false, plain}, {"token", true, must_refer}, {"page_id", true, plain}, {"graph_version", false, plain}};
// X: an OAuth 2.0 user-context access token of the brand account (tweet.read tweet.write
// users.read), read from a file; base_url defaults to https://api.x.com.
inline constexpr channel_key x_keys[] = {{"base_url", false, plain}, {"token", true, must_refer}};
}  // namespace detail

// Every channel type, in the order config diagnostics list them.
inline constexpr std::array<channel_traits, 10> channel_types{{
    {"webhook", true, false, text::length_rule::code_points, false, false, detail::webhook_keys},
    {"file", false, false, text::length_rule::code_points, false, false, detail::file_keys},
    {"log", false, false, text::length_rule::code_points, false, false, {}},
    {"slack", true, false, text::length_rule::code_points, false, false, detail::slack_keys},
    {"pagerduty", true, false, text::length_rule::code_points, true, true, detail::pagerduty_keys},
    {"alertmanager", true, false, text::length_rule::code_points, false, true, detail::alertmanager_keys},
    {"mastodon", true, true, text::length_rule::mastodon, false, false, detail::mastodon_keys},
    {"bluesky", true, true, text::length_rule::bluesky, false, false, detail::bluesky_keys},
    {"facebook", true, true, text::length_rule::facebook, false, false, detail::facebook_keys},
    {"x", true, true, text::length_rule::x, false, false, detail::x_keys},
}};

// The traits of `type`; nullptr for a name that is no channel type.
constexpr const channel_traits* traits_of(std::string_view type) {
    for (const auto& t : channel_types)
        if (t.type == type) return &t;
    return nullptr;
}

}  // namespace crisisd::notify
