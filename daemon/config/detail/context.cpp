#include "config/detail/context.hpp"

#include <algorithm>
#include <cstddef>

namespace crisisd::config::detail {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::size_t index(name_kind kind) { return static_cast<std::size_t>(kind); }

}  // namespace

std::string_view kind_name(name_kind kind) {
    switch (kind) {
        case name_kind::source: return "source";
        case name_kind::channel: return "channel";
        case name_kind::rule: return "rule";
        case name_kind::playbook: return "playbook";
        case name_kind::statement: return "statement";
    }
    return "name";
}

std::string suggestion(std::string_view word, const std::vector<std::string>& candidates) {
    // A third of the word may be wrong: catches typos ("windw") without suggesting unrelated keys.
    std::size_t best = word.size() / 3 + 1;
    const std::string* pick = nullptr;
    for (const auto& c : candidates) {
        std::size_t d = edit_distance(word, c);
        if (d < best) {
            best = d;
            pick = &c;
        }
    }
    if (pick == nullptr || best == 0) return {};
    return " (did you mean '" + *pick + "'?)";
}

std::string describe(const location& at) {
    if (at.line <= 0) return at.file;
    return at.file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
}

void context::error(const location& at, std::string message) {
    out_.push_back(diagnostic{at.file, at.line, at.column, std::move(message)});
}

void context::define(name_kind kind, const std::string& name, const location& at) {
    auto& table = defined_[index(kind)];
    auto [it, fresh] = table.emplace(name, at);
    if (!fresh) {
        error(at, "duplicate " + std::string(kind_name(kind)) + " name '" + name +
                      "' (first defined at " + describe(it->second) + ")");
    }
}

bool context::defined(name_kind kind, const std::string& name) const {
    return defined_[index(kind)].count(name) != 0;
}

void context::refer(name_kind kind, const std::string& name, const location& at) {
    references_.push_back(reference{kind, name, at});
}

void context::check_references() {
    for (const auto& ref : references_) {
        const auto& table = defined_[index(ref.kind)];
        if (table.count(ref.name) != 0) continue;
        std::vector<std::string> known;
        for (const auto& [name, where] : table) known.push_back(name);
        error(ref.at, "unknown " + std::string(kind_name(ref.kind)) + " '" + ref.name + "'" +
                          suggestion(ref.name, known));
    }
}

void context::note_text(std::size_t statement, const std::string& language, const location& at) {
    texts_[{statement, language}] = at;
}

const location* context::text_at(std::size_t statement, const std::string& language) const {
    auto it = texts_.find({statement, language});
    return it == texts_.end() ? nullptr : &it->second;
}

void context::note_placeholder(std::size_t statement, const std::string& language, const std::string& name,
                               const location& at) {
    placeholders_.emplace(std::make_tuple(statement, language, name), at);  // the first one stays
}

const location* context::placeholder_at(std::size_t statement, const std::string& language,
                                        const std::string& name) const {
    auto it = placeholders_.find(std::make_tuple(statement, language, name));
    return it == placeholders_.end() ? nullptr : &it->second;
}

void context::note_playbook_key(std::size_t playbook, const std::string& key, const location& at) {
    playbook_keys_[{playbook, key}] = at;
}

const location* context::playbook_key_at(std::size_t playbook, const std::string& key) const {
    auto it = playbook_keys_.find({playbook, key});
    return it == playbook_keys_.end() ? nullptr : &it->second;
}

}  // namespace crisisd::config::detail
