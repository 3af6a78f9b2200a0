#pragma once
// What each of the demo's networks writes for a post of the story, in that network's wire
// format, so crisisd's source of that type reads back the post's id, author, text, time and link
// as the scenario line has them (and replay of the scenario counts what the demo counted). The
// stand-ins send these; tests/unit/demo checks each against crisisd's own reader. Pure.
#include <string>
#include <string_view>
#include <vector>

#include "demo/scenario.hpp"

namespace crisisd::demo {

// Mastodon's streaming API: {"stream":["hashtag","liwest"],"event":"update","payload":"<Status>"}
// with the status JSON encoded into the payload string and its content as HTML.
std::string mastodon_update(const post& p);

// One line of X's filtered stream (without its "\r\n"): data, includes.users (the author from
// expansions=author_id) and the rule it matched.
std::string x_stream_line(const post& p, std::string_view rule_id, std::string_view rule_tag);

// One Meta webhook delivery for the Page: the posts as `feed` changes, comments added under the
// Page's post. The body that is signed and POSTed.
std::string facebook_delivery(const std::vector<post>& comments);

// The forum's Atom feed (RFC 4287) listing `posts` newest first (`posts` is oldest first); each
// entry's title is the post, with no body.
std::string atom_feed(std::string_view self_url, const std::vector<post>& posts);

}  // namespace crisisd::demo
