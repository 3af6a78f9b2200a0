#include "config/loader.hpp"

#include <glob.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "config/detail/context.hpp"
#include "config/detail/document.hpp"
#include "config/detail/reader.hpp"
#include "config/detail/secrets.hpp"
#include "config/detail/sections.hpp"
#include "config/detail/statement_fields.hpp"
#include "config/detail/statement_lengths.hpp"

namespace crisisd::config {

std::string diagnostic::to_string() const {
    std::string out = file;
    if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
    return out + ": error: " + message;
}

namespace {

namespace fs = std::filesystem;
using namespace detail;

fs::path identity_of(const fs::path& path) {
    std::error_code ec;
    fs::path p = fs::weakly_canonical(path, ec);
    return ec ? fs::absolute(path, ec).lexically_normal() : p;
}

bool has_glob_chars(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

// Files matching `pattern`, regular files only, in byte order (glob(3) would sort by locale).
std::vector<std::string> expand_glob(const fs::path& dir, const std::string& pattern) {
    std::string full;
    if (!fs::path(pattern).is_absolute() && !dir.empty()) {
        for (char c : dir.string()) {
            if (c == '*' || c == '?' || c == '[' || c == '\\') full += '\\';
            full += c;
        }
        if (full.back() != '/') full += '/';
    }
    full += pattern;
    std::vector<std::string> out;
    glob_t g{};
    if (::glob(full.c_str(), 0, nullptr, &g) == 0) {
        for (std::size_t i = 0; i < g.gl_pathc; ++i) {
            std::error_code ec;
            if (fs::is_regular_file(g.gl_pathv[i], ec)) {
                out.push_back(fs::path(g.gl_pathv[i]).lexically_normal().string());
            }
        }
    }
    ::globfree(&g);
    std::sort(out.begin(), out.end());
    return out;
}

// Records where each document starts, nothing else.
class document_starts final : public YAML::EventHandler {
public:
    std::vector<YAML::Mark> starts;

    void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

struct document_scan {
    int documents = 0;  // counted up to 2
    std::optional<YAML::Mark> second_at;
    std::optional<YAML::Mark> stuck_at;
};

// yaml-cpp 0.7 (Debian 12) reports a stray token such as a leading ',' as an endless run of
// empty documents at the same place (jbeder/yaml-cpp#1040, fixed upstream by #1319), and
// YAML::Load returns an empty node for it. Walking the documents with a bound and watching for
// a start that does not move turns that into an error instead of a hang or a silently empty config.
document_scan scan_documents(const std::string& text) {
    std::istringstream in(text);
    YAML::Parser parser(in);
    document_starts handler;
    document_scan scan;
    for (int i = 0; i < 3 && parser.HandleNextDocument(handler); ++i) {
        const auto& starts = handler.starts;
        if (starts.size() >= 2 && starts[starts.size() - 1].pos == starts[starts.size() - 2].pos) {
            scan.stuck_at = starts.back();
            return scan;
        }
    }
    scan.documents = static_cast<int>(std::min<std::size_t>(handler.starts.size(), 2));
    if (handler.starts.size() >= 2) scan.second_at = handler.starts[1];
    return scan;
}

// Bounds on one document's tree, checked before any section reads it. No setting needs a string
// near 64 KiB (statements are bounded by their channels far below; keywords, names and URLs are
// short), and a 10 MB value is a mistake or an attack that would otherwise be copied into every
// module's settings and every reload. Aliases share nodes, so a few lines can make a tree of
// billions of nodes when walked; the visit bound turns that into an error instead of a hang.
constexpr std::size_t max_scalar_bytes = 64u << 10;
constexpr std::size_t max_node_visits = 1'000'000;

struct tree_problem {
    YAML::Mark mark;
    std::string message;
};

std::optional<tree_problem> check_tree(const YAML::Node& root) {
    std::size_t visits = 0;
    std::vector<YAML::Node> pending{root};
    while (!pending.empty()) {
        YAML::Node node = pending.back();
        pending.pop_back();
        if (++visits > max_node_visits) {
            return tree_problem{root.Mark(), "the config is too large when its aliases are expanded (over " +
                                                 std::to_string(max_node_visits) + " values)"};
        }
        if (node.IsScalar() && node.Scalar().size() > max_scalar_bytes) {
            return tree_problem{node.Mark(), "a value of " + std::to_string(node.Scalar().size()) +
                                                 " bytes; at most " + std::to_string(max_scalar_bytes) +
                                                 " bytes are allowed"};
        }
        if (node.IsSequence()) {
            for (const auto& child : node) pending.push_back(child);
        } else if (node.IsMap()) {
            for (const auto& kv : node) {
                pending.push_back(kv.first);
                pending.push_back(kv.second);
            }
        }
    }
    return std::nullopt;
}

class loader {
public:
    load_result from_file(const fs::path& path) {
        std::string text;
        std::string why;
        if (!read_text_file(path, text, why)) {
            diags_.push_back(diagnostic{path.string(), 0, 0, "cannot read config file: " + why});
            return finish();
        }
        read_document(path.string(), std::move(text), path.parent_path(), identity_of(path));
        return finish();
    }

    load_result from_string(std::string_view yaml, std::string name, const fs::path& base_dir) {
        fs::path identity = identity_of(base_dir.empty() ? fs::path(name) : base_dir / name);
        read_document(std::move(name), std::string(yaml), base_dir, identity);
        return finish();
    }

private:
    load_result finish() {
        ctx_.check_references();
        check_short_grace(ctx_, config_, grace_at_);
        resolve_statement_fields(ctx_, config_);  // before the lengths: they measure the real URLs and zones
        check_statement_lengths(ctx_, config_);
        std::stable_sort(diags_.begin(), diags_.end(), [](const diagnostic& a, const diagnostic& b) {
            return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
        });
        auto same = [](const diagnostic& a, const diagnostic& b) {
            return a.file == b.file && a.line == b.line && a.column == b.column && a.message == b.message;
        };
        diags_.erase(std::unique(diags_.begin(), diags_.end(), same), diags_.end());
        load_result result;
        result.config = std::move(config_);
        result.errors = std::move(diags_);
        return result;
    }

    void read_document(std::string name, std::string text, fs::path dir, const fs::path& identity) {
        docs_.push_back(std::make_unique<document>(std::move(name), std::move(text), std::move(dir)));
        const document& doc = *docs_.back();
        const document* previous = current_;
        current_ = &doc;
        ctx_.set_document(&doc);
        loaded_.insert(identity);
        stack_.push_back({identity, doc.name()});

        if (std::optional<YAML::Node> root = parse(doc)) {
            try {
                read_root(*root);
            } catch (const YAML::Exception& e) {
                // Node accessors do not throw on the paths above; this keeps a surprise a diagnostic.
                ctx_.error(doc.at(e.mark), "invalid YAML: " + e.msg);
            }
        }

        stack_.pop_back();
        current_ = previous;
        ctx_.set_document(previous);
    }

    // The single document of a file, or nullopt after reporting why there is none.
    std::optional<YAML::Node> parse(const document& doc) {
        try {
            const document_scan scan = scan_documents(doc.text());
            if (scan.stuck_at) {
                const auto pos = static_cast<std::size_t>(std::max(scan.stuck_at->pos, 0));
                const std::string what = pos < doc.text().size() ? std::string(1, doc.text()[pos]) : "end of file";
                ctx_.error(doc.at(*scan.stuck_at), "invalid YAML: unexpected '" + what + "'");
                return std::nullopt;
            }
            if (scan.second_at) {
                ctx_.error(doc.at(*scan.second_at), "a config file holds one YAML document; remove this second one");
                return std::nullopt;
            }
            if (scan.documents == 0) return YAML::Node();
            YAML::Node root = YAML::Load(doc.text());
            if (auto problem = check_tree(root)) {
                ctx_.error(doc.at(problem->mark), problem->message);
                return std::nullopt;
            }
            return root;
        } catch (const YAML::Exception& e) {
            ctx_.error(doc.at(e.mark), "invalid YAML: " + e.msg);
            return std::nullopt;
        }
    }

    void read_root(const YAML::Node& root) {
        if (root.IsNull()) return;  // an empty file is an empty config
        mapping top(ctx_, root, ctx_.at(root), "a config file",
                    {"sources", "channels", "rules", "playbooks", "statements", "status_url", "time_zone",
                     "next_update_in", "admin", "storage", "cluster", "include"});
        if (!top.valid()) return;
        const field* includes = nullptr;
        for (const field& f : top.fields()) {
            if (f.key == "sources") {
                read_sources(ctx_, f, config_.sources);
            } else if (f.key == "channels") {
                read_channels(ctx_, f, config_.channels);
            } else if (f.key == "rules") {
                read_rules(ctx_, f, config_.rules);
            } else if (f.key == "playbooks") {
                read_playbooks(ctx_, f, config_.playbooks);
            } else if (f.key == "statements") {
                read_statements(ctx_, f, config_.statements);
            } else if (f.key == "status_url") {
                if (once(f, status_url_at_)) {
                    if (auto v = read_string(ctx_, f)) {
                        config_.status_url = *v;
                        check_status_url(ctx_, f, *v);
                    }
                }
            } else if (f.key == "time_zone") {
                if (once(f, time_zone_at_)) {
                    if (auto v = read_time_zone(ctx_, f)) config_.time_zone = *v;
                }
            } else if (f.key == "next_update_in") {
                if (once(f, next_update_in_at_)) {
                    if (auto v = read_next_update_in(ctx_, f)) config_.next_update_in = *v;
                }
            } else if (f.key == "admin") {
                if (once(f, admin_at_)) read_admin(ctx_, f, config_.admin);
            } else if (f.key == "storage") {
                if (once(f, storage_at_)) read_storage(ctx_, f, config_.storage, grace_at_);
            } else if (f.key == "cluster") {
                if (once(f, cluster_at_)) read_cluster(ctx_, f, config_.cluster);
            } else {
                includes = &f;
            }
        }
        // A file's own entries come before those of the files it includes.
        if (includes != nullptr) read_includes(*includes);
    }

    // admin, storage, cluster, status_url, time_zone and next_update_in are single settings; lists merge
    // across files but these cannot.
    bool once(const field& f, std::optional<location>& first) {
        if (first) {
            ctx_.error(ctx_.at(f.key_node),
                       "'" + f.key + "' is already set at " + describe(*first) + "; set it in one file only");
            return false;
        }
        first = ctx_.at(f.key_node);
        return true;
    }

    void read_includes(const field& f) {
        auto patterns = read_string_list(ctx_, f, true);
        if (!patterns) return;
        const document& doc = *current_;
        for (std::size_t i = 0; i < patterns->size(); ++i) {
            const std::string& pattern = (*patterns)[i];
            const location at = f.value.IsSequence() ? doc.at(f.value[i]) : doc.at(f.value);
            const auto files = expand_glob(doc.dir(), pattern);
            if (files.empty()) {
                ctx_.error(at, has_glob_chars(pattern)
                                   ? "include pattern '" + pattern + "' matches no files"
                                   : "included file '" + pattern + "' does not exist");
                continue;
            }
            for (const auto& file : files) include_file(file, at);
        }
    }

    void include_file(const std::string& file, const location& at) {
        const fs::path identity = identity_of(file);
        auto on_stack = std::find_if(stack_.begin(), stack_.end(),
                                     [&](const auto& entry) { return entry.first == identity; });
        if (on_stack != stack_.end()) {
            std::string chain;
            for (auto it = on_stack; it != stack_.end(); ++it) chain += it->second + " -> ";
            ctx_.error(at, "include cycle: " + chain + file);
            return;
        }
        if (loaded_.count(identity) != 0) return;  // each file once, however often it is named
        std::string text;
        std::string why;
        if (!read_text_file(file, text, why)) {
            ctx_.error(at, "cannot read included file '" + file + "': " + why);
            return;
        }
        read_document(file, std::move(text), fs::path(file).parent_path(), identity);
    }

    std::vector<diagnostic> diags_;
    context ctx_{diags_};
    settings config_;
    std::vector<std::unique_ptr<document>> docs_;
    const document* current_ = nullptr;
    std::set<fs::path> loaded_;
    std::vector<std::pair<fs::path, std::string>> stack_;  // identity, name shown; for cycles
    std::optional<location> admin_at_;
    std::optional<location> storage_at_;
    std::optional<location> grace_at_;  // where storage.resolved_grace was set
    std::optional<location> cluster_at_;
    std::optional<location> status_url_at_;
    std::optional<location> time_zone_at_;
    std::optional<location> next_update_in_at_;
};

}  // namespace

load_result load_file(const std::filesystem::path& path) { return loader().from_file(path); }

load_result load_string(std::string_view yaml, std::string file_name, const std::filesystem::path& base_dir) {
    return loader().from_string(yaml, std::move(file_name), base_dir);
}

}  // namespace crisisd::config
