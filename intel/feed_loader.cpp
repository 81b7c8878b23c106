#include "intel/feed_loader.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace malfix::intel {

namespace fs = std::filesystem;

struct FeedLoader::FeedState {
    std::uint16_t feed = 0;
    std::size_t problems = 0;
};

namespace {

constexpr std::array<std::string_view, 3> kCategories = {"malware", "malicious", "suspicious"};
constexpr std::size_t kExcerpt = 60;

bool is_category(std::string_view name) {
    return std::find(kCategories.begin(), kCategories.end(), name) != kCategories.end();
}

[[noreturn]] void fail(const fs::path& path, std::string_view why) {
    throw std::runtime_error("intel: cannot read '" + path.string() + "': " + std::string(why));
}

// Reading order inside a tree: custom trails first (the operator's own word wins, as custom
// trails override static ones in Maltrail), then the most severe static categories.
int file_rank(const fs::path& file) {
    if (trail_file_reference(file) == "(custom)") {
        return 0;
    }
    const std::string parent = file.parent_path().filename().string();
    for (std::size_t i = 0; i < kCategories.size(); ++i) {
        if (parent == kCategories[i]) {
            return static_cast<int>(i) + 1;
        }
    }
    return static_cast<int>(kCategories.size()) + 1;
}

std::vector<fs::path> trail_files_under(const fs::path& root) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        if (entry.is_regular_file() && entry.path().extension() == ".txt") {
            files.push_back(entry.path());
        }
    }
    return files;
}

// Splits one CSV line (RFC 4180 quoting, no embedded line breaks). Returns the field count.
std::size_t split_csv(std::string_view line, std::array<std::string, 3>& fields) {
    std::size_t count = 0;
    std::size_t i = 0;
    while (count < fields.size()) {
        std::string& field = fields[count++];
        field.clear();
        if (i < line.size() && line[i] == '"') {
            for (++i; i < line.size(); ++i) {
                if (line[i] == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                    field.push_back('"');
                    ++i;
                } else if (line[i] == '"') {
                    ++i;
                    break;
                } else {
                    field.push_back(line[i]);
                }
            }
        }
        const std::size_t comma = line.find(',', i);
        field.append(line.substr(i, comma == std::string_view::npos ? comma : comma - i));
        if (comma == std::string_view::npos) {
            break;
        }
        i = comma + 1;
    }
    return count;
}

template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
    std::size_t number = 0;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        fn(text.substr(0, end), ++number);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    }
}

}  // namespace

std::string trail_file_info(const fs::path& file) {
    std::string info = file.stem().string();
    if (info.starts_with("mass_scanner")) {
        return "mass scanner";
    }
    std::replace(info.begin(), info.end(), '_', ' ');
    const std::string parent = file.parent_path().filename().string();
    if (is_category(parent)) {
        info += " (" + parent + ")";
    }
    return info;
}

std::string_view trail_file_reference(const fs::path& file) {
    const fs::path absolute = fs::absolute(file).lexically_normal();
    for (fs::path dir = absolute.parent_path(); dir.has_filename(); dir = dir.parent_path()) {
        const std::string name = dir.filename().string();
        if (name == "custom") {
            return "(custom)";
        }
        if (name == "static" || is_category(name)) {
            return "(static)";
        }
    }
    return "(custom)";
}

void FeedLoader::add_maltrail_dir(const fs::path& path) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (error || !fs::exists(status)) {
        fail(path, error ? error.message() : "no such file or directory");
    }
    if (!fs::is_directory(status)) {
        add_trail_file(path);
        return;
    }
    std::vector<fs::path> files;
    if (fs::is_directory(path / "static")) {
        if (fs::is_directory(path / "custom")) {
            files = trail_files_under(path / "custom");
        }
        std::vector<fs::path> static_files = trail_files_under(path / "static");
        files.insert(files.end(), static_files.begin(), static_files.end());
    } else {
        files = trail_files_under(path);
    }
    if (files.empty()) {
        fail(path, "no *.txt trail files in it");
    }
    std::vector<std::pair<int, fs::path>> ordered;
    ordered.reserve(files.size());
    for (fs::path& file : files) {
        ordered.emplace_back(file_rank(file), std::move(file));
    }
    std::sort(ordered.begin(), ordered.end());

    FeedState state{.feed = builder_.add_feed(path.string())};
    for (const auto& [rank, file] : ordered) {
        load_trail_lines(state, file);
    }
}

void FeedLoader::add_trail_file(const fs::path& path) {
    FeedState state{.feed = builder_.add_feed(path.string())};
    load_trail_lines(state, path);
}

void FeedLoader::add_intel_path(const fs::path& path) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
        add_maltrail_dir(path);
    } else if (path.extension() == ".csv") {
        add_trails_csv(path);
    } else {
        add_trail_file(path);
    }
}

void FeedLoader::read_file(const fs::path& path) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
        fail(path, "is a directory");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fail(path, std::strerror(errno));
    }
    in.seekg(0, std::ios::end);
    const std::streamoff size = in.tellg();
    in.seekg(0, std::ios::beg);
    buffer_.resize(size > 0 ? static_cast<std::size_t>(size) : 0);
    if (size > 0 && !in.read(buffer_.data(), size)) {
        fail(path, "read error");
    }
    ++report_.files;
}

void FeedLoader::note_problem(FeedState& state, const fs::path& file, std::size_t number,
                              std::string_view reason, std::string_view line) {
    if (state.problems++ >= kProblemsPerFeed) {
        return;
    }
    line = line.substr(0, line.find_last_not_of(" \t\r") + 1);
    std::string text = file.string() + ":" + std::to_string(number) + ": " + std::string(reason);
    text += " in \"" + std::string(line.substr(0, kExcerpt)) +
            (line.size() > kExcerpt ? "...\"" : "\"");
    report_.problems.push_back(std::move(text));
}

void FeedLoader::load_trail_lines(FeedState& state, const fs::path& file) {
    read_file(file);
    const SourceId source = builder_.add_source(trail_file_info(file), trail_file_reference(file));
    for_each_line(buffer_, [&](std::string_view line, std::size_t number) {
        const ParsedTrail trail = parse_trail_line(line, scratch_);
        if (tally(state, builder_.feed(state.feed), file, number, trail, line)) {
            builder_.add_trail(state.feed, source, trail);
        }
    });
}

bool FeedLoader::tally(FeedState& state, FeedInfo& info, const fs::path& file, std::size_t number,
                       const ParsedTrail& trail, std::string_view line) {
    switch (trail.line_class) {
        case LineClass::kEmpty:
            return false;
        case LineClass::kSkipped:
            ++info.skipped_lines;
            return false;
        case LineClass::kBad:
            ++info.bad_lines;
            note_problem(state, file, number, trail.reason, line);
            return false;
        case LineClass::kTrail:
            return true;
    }
    return false;
}

void FeedLoader::add_trails_csv(const fs::path& path) {
    FeedState state{.feed = builder_.add_feed(path.string())};
    read_file(path);
    std::array<std::string, 3> fields;
    std::string last_info;
    std::string last_reference;
    SourceId source = 0;
    bool have_source = false;
    for_each_line(buffer_, [&](std::string_view line, std::size_t number) {
        FeedInfo& info = builder_.feed(state.feed);
        if (line.ends_with('\r')) {
            line.remove_suffix(1);
        }
        if (line.empty() || line.starts_with('#') || (number == 1 && line.starts_with("trail,"))) {
            return;
        }
        const std::size_t count = split_csv(line, fields);
        if (count < 2 || fields[1].empty()) {
            ++info.bad_lines;
            note_problem(state, path, number, "expected trail,info,reference", line);
            return;
        }
        if (count < 3 || fields[2].empty()) {
            fields[2] = "(custom)";
        }
        const ParsedTrail trail = parse_trail_line(fields[0], scratch_);
        if (trail.line_class == LineClass::kSkipped) {
            ++info.skipped_lines;
            return;
        }
        if (trail.line_class != LineClass::kTrail) {
            ++info.bad_lines;
            note_problem(state, path, number, trail.reason.empty() ? "empty trail" : trail.reason,
                         line);
            return;
        }
        if (!have_source || fields[1] != last_info || fields[2] != last_reference) {
            source = builder_.add_source(fields[1], fields[2]);
            last_info = fields[1];
            last_reference = fields[2];
            have_source = true;
        }
        builder_.add_trail(state.feed, source, trail);
    });
}

void FeedLoader::add_whitelist(const fs::path& path) {
    read_file(path);
    report_.whitelists.push_back(FeedInfo{.name = path.string()});
    FeedState state;
    for_each_line(buffer_, [&](std::string_view line, std::size_t number) {
        FeedInfo& info = report_.whitelists.back();
        const ParsedTrail entry = parse_trail_line(line, scratch_);
        if (!tally(state, info, path, number, entry, line)) {
            return;
        }
        if (entry.kind == IndicatorKind::kIpPort) {
            ++info.skipped_lines;  // Maltrail whitelists whole addresses only
        } else if (builder_.add_whitelist(entry)) {
            ++info.indicators;
        } else {
            ++info.duplicates;
        }
    });
}

std::shared_ptr<const Snapshot> FeedLoader::build() {
    std::shared_ptr<const Snapshot> snapshot = builder_.build();
    report_.feeds = snapshot->feeds();
    report_.indicators = snapshot->size();
    return snapshot;
}

LoadResult load_snapshot(const LoadOptions& options) {
    FeedLoader loader;
    for (const fs::path& path : options.intel_paths) {
        loader.add_intel_path(path);
    }
    for (const fs::path& path : options.whitelist_paths) {
        loader.add_whitelist(path);
    }
    std::shared_ptr<const Snapshot> snapshot = loader.build();
    return {std::move(snapshot), loader.report()};
}

}  // namespace malfix::intel
