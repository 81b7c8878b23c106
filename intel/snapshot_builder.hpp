#pragma once

#include "intel/snapshot.hpp"
#include "intel/trail_parser.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace malfix::intel {

class TrailSnapshot;

/// Identifies one interned (info, reference) pair; trails of one file share it.
using SourceId = std::uint32_t;

/// What add_trail() did with a trail.
enum class AddOutcome : std::uint8_t { kAdded, kDuplicate, kNotATrail };

/// Collects indicators and whitelist entries, then freezes them into a Snapshot.
///
/// Single use and single threaded: build() hands everything over and leaves the builder empty.
/// Duplicates keep the first indicator given, so callers add the most telling feeds first.
class SnapshotBuilder {
public:
    SnapshotBuilder();
    ~SnapshotBuilder();
    SnapshotBuilder(SnapshotBuilder&&) noexcept;
    SnapshotBuilder& operator=(SnapshotBuilder&&) noexcept;
    SnapshotBuilder(const SnapshotBuilder&) = delete;
    SnapshotBuilder& operator=(const SnapshotBuilder&) = delete;

    /// Registers a feed and returns its index (Indicator::feed). Throws std::length_error beyond
    /// 65,536 feeds.
    std::uint16_t add_feed(std::string name);
    FeedInfo& feed(std::uint16_t index);
    const std::vector<FeedInfo>& feeds() const;

    /// Interns an (info, reference) pair; the same pair always yields the same id.
    SourceId add_source(std::string_view info, std::string_view reference);

    /// Adds a parsed trail (line_class kTrail) for feed, counting it or its duplicate there.
    AddOutcome add_trail(std::uint16_t feed, SourceId source, const ParsedTrail& trail);

    /// Parses line and adds it when it is a trail: a shortcut for tests and small feeds.
    AddOutcome add_trail(std::uint16_t feed, std::string_view line, std::string_view info,
                         std::string_view reference);

    /// Adds a whitelist entry: an address, an address CIDR, or a name (which also covers its
    /// subdomains). Returns false when the entry is not of those kinds or already present.
    bool add_whitelist(const ParsedTrail& entry);
    bool add_whitelist(std::string_view line);
    std::size_t whitelist_size() const;

    /// Folds the whitelist in and freezes the indicators; the builder is empty afterwards.
    std::shared_ptr<const Snapshot> build();

private:
    struct Pending;

    void suppress(std::uint32_t index);
    void fold_whitelisted_names();
    void fold_whitelisted_addresses();

    std::unique_ptr<TrailSnapshot> snapshot_;
    std::unique_ptr<Pending> pending_;
    std::string scratch_;
};

}  // namespace malfix::intel
