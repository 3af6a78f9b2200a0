#pragma once
// Checked access to YAML nodes: each reader validates one value, reports a gcc-style diagnostic
// at the value when it is wrong, and returns nullopt then, so a caller can keep going and find
// every problem of a file in one run. Private to config/.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/detail/context.hpp"
#include "core/time.hpp"

namespace crisisd::config::detail {

// One key/value pair of a mapping.
struct field {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
};

// Where to point at for a value: the value itself, or its key when the value is empty.
location value_at(const context& ctx, const field& f);

// How a value looks in a message: "\"five\"", "a list", "a mapping", "nothing".
std::string shown(const YAML::Node& node);

// A mapping whose keys are all known and unique; anything else is reported on construction.
class mapping {
public:
    // `subject` completes "… must be a mapping": "'match'", "each entry of 'rules'".
    mapping(context& ctx, const YAML::Node& node, const location& where, std::string subject,
            std::initializer_list<std::string_view> known);
    mapping(context& ctx, const field& f, std::initializer_list<std::string_view> known);

    bool valid() const { return valid_; }
    const std::vector<field>& fields() const { return fields_; }
    const location& where() const { return where_; }
    const field* find(std::string_view key) const;
    // Like find, but reports "missing 'key' in <owner>" when absent.
    const field* require(std::string_view key) const;
    // Names the mapping in "missing" messages once it is known ("rule 'isp-outage'").
    void set_owner(std::string owner) { owner_ = std::move(owner); }

private:
    context& ctx_;
    location where_;
    std::string owner_;
    bool valid_ = false;
    std::vector<field> fields_;
};

std::optional<std::string> read_string(context& ctx, const field& f);
// A name other entries refer to: letters, digits, '-', '_', '.'.
std::optional<std::string> read_name(context& ctx, const field& f);
// A list of non-empty strings; with allow_single, one string stands for a list of one.
std::optional<std::vector<std::string>> read_string_list(context& ctx, const field& f,
                                                         bool allow_single = false);
std::optional<core::duration> read_duration(context& ctx, const field& f, bool allow_zero,
                                            std::string_view example);
std::optional<double> read_number(context& ctx, const field& f, double min, double max);
std::optional<std::uint64_t> read_integer(context& ctx, const field& f, std::uint64_t min,
                                          std::uint64_t max);
// One of `choices`; returns its index.
std::optional<std::size_t> read_choice(context& ctx, const field& f,
                                       std::initializer_list<std::string_view> choices);
std::optional<std::size_t> read_choice(context& ctx, const field& f, std::span<const std::string_view> choices);

// A string that may contain ${env:NAME} / ${file:PATH} references, returned expanded. With
// must_be_reference the whole value has to be one reference (tokens are never written literally).
std::optional<std::string> read_secret(context& ctx, const field& f, bool must_be_reference);
// Whether a value was written with a reference, so messages can avoid echoing a secret.
bool mentions_secret(const field& f);

// Paths in the config are relative to the directory of the file that names them.
std::string resolve_path(const context& ctx, const std::string& path);

}  // namespace crisisd::config::detail
