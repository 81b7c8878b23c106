#pragma once

#include "intel/snapshot.hpp"
#include "intel/snapshot_builder.hpp"

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace malfix::intel {

/// What loading found, for the start-up log. Bad lines never stop a load; they are counted
/// per feed and the first few of each feed are kept here as "file:line: reason".
struct LoadReport {
    std::vector<FeedInfo> feeds;       ///< one per intel path, in the order given
    std::vector<FeedInfo> whitelists;  ///< one per whitelist path; indicators = entries kept
    std::vector<std::string> problems;
    std::size_t files = 0;       ///< trail, CSV and whitelist files read
    std::size_t indicators = 0;  ///< matchable indicators in the snapshot
};

/// Reads Maltrail-format intel and whitelists into a SnapshotBuilder.
///
/// Every add_* call is one feed (its name is the path as given). Unreadable or missing paths
/// throw std::runtime_error naming the path; malformed lines are only counted.
class FeedLoader {
public:
    static constexpr std::size_t kProblemsPerFeed = 10;

    /// A Maltrail trails tree: pointed at `trails/` it reads `custom/` then `static/`; pointed
    /// at `trails/static` or any other directory it reads every *.txt below it; pointed at a
    /// single file it reads that file. Info comes from the file name and its folder
    /// ("zeus (malware)", "mass scanner"); reference is "(custom)" for files under a `custom`
    /// folder or outside any static tree, else "(static)". Within a tree, files are read in
    /// the order custom, malware, malicious, suspicious, the rest, so a trail listed twice
    /// keeps its most telling info.
    void add_maltrail_dir(const std::filesystem::path& path);

    /// One plain trail file with the info and reference add_maltrail_dir would give it.
    void add_trail_file(const std::filesystem::path& path);

    /// Maltrail's trails.csv: `trail,info,reference` per line, fields optionally double
    /// quoted (with "" for a quote inside).
    void add_trails_csv(const std::filesystem::path& path);

    /// Maltrail's whitelist.txt: names (covering their subdomains), addresses, CIDRs.
    void add_whitelist(const std::filesystem::path& path);

    /// Directory -> add_maltrail_dir, *.csv -> add_trails_csv, anything else -> add_trail_file.
    void add_intel_path(const std::filesystem::path& path);

    /// The report so far; feeds and indicators are final after build().
    const LoadReport& report() const { return report_; }

    /// Folds the whitelist in and returns the snapshot; the loader is empty afterwards.
    std::shared_ptr<const Snapshot> build();

private:
    struct FeedState;

    void read_file(const std::filesystem::path& path);
    void load_trail_lines(FeedState& state, const std::filesystem::path& file);
    /// Counts an empty, skipped or bad line in info (reporting a bad one); true for a trail.
    bool tally(FeedState& state, FeedInfo& info, const std::filesystem::path& file,
               std::size_t number, const ParsedTrail& trail, std::string_view line);
    void note_problem(FeedState& state, const std::filesystem::path& file, std::size_t number,
                      std::string_view reason, std::string_view line);

    SnapshotBuilder builder_;
    LoadReport report_;
    std::string buffer_;
    std::string scratch_;
};

/// Intel and whitelist paths as given on the command line or in a configuration file.
struct LoadOptions {
    std::vector<std::filesystem::path> intel_paths;
    std::vector<std::filesystem::path> whitelist_paths;
};

struct LoadResult {
    std::shared_ptr<const Snapshot> snapshot;
    LoadReport report;
};

/// Loads every intel path (kind detected as in FeedLoader::add_intel_path) and every
/// whitelist, and builds the snapshot. Throws std::runtime_error for an unreadable path.
LoadResult load_snapshot(const LoadOptions& options);

/// Info text for a trail file: "zeus (malware)", "mass scanner", "dprk".
std::string trail_file_info(const std::filesystem::path& file);

/// Reference text for a trail file: "(static)" inside a static tree, else "(custom)".
std::string_view trail_file_reference(const std::filesystem::path& file);

}  // namespace malfix::intel
