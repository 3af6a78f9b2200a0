#pragma once
// State shared while loading one configuration: the collected diagnostics, the document being
// read, and the tables of defined and referenced names that the second pass checks against
// each other. Private to config/; one per load, single-threaded.
#include <array>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "config/detail/document.hpp"
#include "config/loader.hpp"

namespace crisisd::config::detail {

enum class name_kind { source, channel, rule, playbook, statement };

std::string_view kind_name(name_kind kind);  // "source", "channel", …

// " (did you mean 'x'?)" when one candidate is a near miss of `word`, "" otherwise.
std::string suggestion(std::string_view word, const std::vector<std::string>& candidates);

// "file:line:col" (or "file" when there is no line).
std::string describe(const location& at);

class context {
public:
    explicit context(std::vector<diagnostic>& out) : out_(out) {}

    void set_document(const document* doc) { doc_ = doc; }
    const document& doc() const { return *doc_; }
    location at(const YAML::Node& node) const { return doc_->at(node); }

    void error(const location& at, std::string message);

    // Registers a definition; a name already defined is reported at this (second) occurrence.
    void define(name_kind kind, const std::string& name, const location& at);
    bool defined(name_kind kind, const std::string& name) const;
    // Records a use of a name, checked by check_references() once every file is read.
    void refer(name_kind kind, const std::string& name, const location& at);
    void check_references();

    // Where statement number `statement` (in settings order, across files) wrote its text in
    // `language`, for the checks that need every file read first.
    void note_text(std::size_t statement, const std::string& language, const location& at);
    const location* text_at(std::size_t statement, const std::string& language) const;
    // Where that text first uses placeholder `name` ("status_url"), likewise.
    void note_placeholder(std::size_t statement, const std::string& language, const std::string& name,
                          const location& at);
    const location* placeholder_at(std::size_t statement, const std::string& language,
                                   const std::string& name) const;

    // Where playbook number `playbook` (in settings order, across files) sets `key` itself
    // ("time_zone", "next_update_in"), for the settings the top level gives every other one.
    void note_playbook_key(std::size_t playbook, const std::string& key, const location& at);
    const location* playbook_key_at(std::size_t playbook, const std::string& key) const;

    // A zone written right after a time placeholder, "{next_update} UTC": a claim about the zone
    // the time is shown in, checked against the zones of the playbooks that post the text.
    struct zone_label {
        std::size_t statement = 0;
        std::string language;
        std::string placeholder;  // "next_update", "started_at"
        std::string label;        // "UTC", "GMT"
        location at;              // of the label
    };
    void note_zone_label(zone_label label) { zone_labels_.push_back(std::move(label)); }
    const std::vector<zone_label>& zone_labels() const { return zone_labels_; }

private:
    struct reference {
        name_kind kind;
        std::string name;
        location at;
    };

    std::vector<diagnostic>& out_;
    const document* doc_ = nullptr;
    std::array<std::map<std::string, location>, 5> defined_;
    std::vector<reference> references_;
    std::map<std::pair<std::size_t, std::string>, location> texts_;
    std::map<std::tuple<std::size_t, std::string, std::string>, location> placeholders_;
    std::map<std::pair<std::size_t, std::string>, location> playbook_keys_;
    std::vector<zone_label> zone_labels_;
};

}  // namespace crisisd::config::detail
