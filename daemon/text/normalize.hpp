#pragma once
// Text normalisation used before keyword matching and sentiment scoring: UTF-8 validation,
// Unicode case folding, Mastodon HTML stripping and a fast German/English language guess.
// All functions are pure, stateless and thread-safe; the appending ones never allocate except
// when `out` has to grow (callers reuse one buffer per thread so steady state is allocation-free).
#include <string>
#include <string_view>

namespace crisisd::text {

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool is_valid_utf8(std::string_view s);

// Appends the case-folded (Unicode lower-cased, see to_lower() in utf8.hpp) text to `out`:
// ÄÖÜ -> äöü, ẞ -> ß, Greek, Cyrillic, Latin-1 and Latin Extended-A. Invalid UTF-8 bytes become
// U+FFFD. ASCII runs take a fast path.
void fold_case(std::string_view utf8, std::string& out);
// fold_case() of `utf8` written from the start of `buffer`, returned as a view into it. The
// buffer keeps its size between calls, so a warm one is not zero-filled again: growing a
// cleared string to three times the text for every mention was ~10% of folding on the mixed
// benchmark stream.
std::string_view fold_case_into(std::string_view utf8, std::string& buffer);

// Appends the plain text of an HTML fragment (Mastodon `content`) to `out`: tags are removed,
// `<br>` and paragraph boundaries (`</p><p>`) become '\n', character references (the common named
// ones and all numeric ones) are decoded, `&nbsp;` becomes a plain space. The text inside
// `<span class="invisible">` is kept, so a link's visible and hidden parts join back into the full
// URL (which the scorer then recognises and ignores). `<script>`/`<style>` bodies are dropped.
void strip_html(std::string_view html, std::string& out);

// "de" or "en" from stop-word and character evidence (umlauts, ß), or "" when there is no evidence
// or it is balanced. Looks at the first 2 KiB only; does not allocate.
std::string_view guess_language(std::string_view text);

}  // namespace crisisd::text
