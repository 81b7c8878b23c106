#include "intel/snapshot_builder.hpp"

#include "intel/trail_snapshot.hpp"

#include <charconv>
#include <limits>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace malfix::intel {

// Build-time state that the finished snapshot does not need.
struct SnapshotBuilder::Pending {
    std::unordered_map<std::string, SourceId> source_ids;
    std::vector<std::pair<std::string_view, std::string_view>> sources;
    std::unordered_set<std::string_view> whitelist_names;
    std::size_t whitelist_entries = 0;
};

namespace {

std::uint16_t parse_port_suffix(std::string_view text) {
    std::uint16_t port = 0;
    const std::string_view digits = text.substr(text.rfind(':') + 1);
    std::from_chars(digits.data(), digits.data() + digits.size(), port);
    return port;
}

}  // namespace

SnapshotBuilder::SnapshotBuilder()
    : snapshot_(std::make_unique<TrailSnapshot>()), pending_(std::make_unique<Pending>()) {}
SnapshotBuilder::~SnapshotBuilder() = default;
SnapshotBuilder::SnapshotBuilder(SnapshotBuilder&&) noexcept = default;
SnapshotBuilder& SnapshotBuilder::operator=(SnapshotBuilder&&) noexcept = default;

std::uint16_t SnapshotBuilder::add_feed(std::string name) {
    auto& feeds = snapshot_->feeds_;
    if (feeds.size() > std::numeric_limits<std::uint16_t>::max()) {
        throw std::length_error("intel: too many feeds (at most 65,536)");
    }
    feeds.push_back(FeedInfo{.name = std::move(name)});
    return static_cast<std::uint16_t>(feeds.size() - 1);
}

FeedInfo& SnapshotBuilder::feed(std::uint16_t index) {
    return snapshot_->feeds_.at(index);
}

const std::vector<FeedInfo>& SnapshotBuilder::feeds() const {
    return snapshot_->feeds_;
}

SourceId SnapshotBuilder::add_source(std::string_view info, std::string_view reference) {
    std::string key;
    key.reserve(info.size() + reference.size() + 1);
    key.append(info).push_back('\n');
    key.append(reference);
    const auto [it, inserted] =
        pending_->source_ids.try_emplace(std::move(key), pending_->sources.size());
    if (inserted) {
        pending_->sources.emplace_back(snapshot_->arena_.store(info),
                                       snapshot_->arena_.store(reference));
    }
    return it->second;
}

AddOutcome SnapshotBuilder::add_trail(std::uint16_t feed_index, SourceId source,
                                      const ParsedTrail& trail) {
    if (trail.line_class != LineClass::kTrail) {
        return AddOutcome::kNotATrail;
    }
    TrailSnapshot& snap = *snapshot_;
    const std::uint32_t next = snap.store_.size();
    bool inserted = false;
    switch (trail.kind) {
        case IndicatorKind::kIp:
            if (trail.v6) {
                snap.v6_.insert(to_v6_key(trail.v6_addr), next, inserted);
            } else {
                snap.v4_.insert(trail.v4, next, inserted);
            }
            break;
        case IndicatorKind::kIpPort:
            if (trail.v6) {
                const V6Key key = to_v6_key(trail.v6_addr);
                snap.v6_port_.insert({key.hi, key.lo, trail.port}, next, inserted);
            } else {
                snap.v4_port_.insert(std::uint64_t{trail.v4} << 16 | trail.port, next, inserted);
            }
            break;
        case IndicatorKind::kCidr:
            if (trail.v6) {
                snap.cidr6_.insert(to_v6_key(trail.v6_addr), trail.prefix, next, inserted);
            } else {
                snap.cidr4_.insert(trail.v4, trail.prefix, next, inserted);
            }
            break;
        case IndicatorKind::kDomain:
            // Inserted below, once the indicator exists: the table reads names through it.
            inserted =
                snap.domain_size_ == 0 ||
                snap.domain_find(hash_domain(trail.text), trail.text) == TrailSnapshot::kAbsent;
            break;
    }
    FeedInfo& info = snap.feeds_.at(feed_index);
    if (!inserted) {
        ++info.duplicates;
        return AddOutcome::kDuplicate;
    }

    Indicator& indicator = snap.store_.push();
    indicator.trail = snap.arena_.store(trail.text);
    indicator.info = pending_->sources.at(source).first;
    indicator.reference = pending_->sources.at(source).second;
    indicator.feed = feed_index;
    indicator.kind = trail.kind;
    if (trail.kind == IndicatorKind::kDomain) {
        snap.domain_insert(hash_domain(indicator.trail), indicator.trail, next, inserted);
    }
    ++info.indicators;
    ++snap.size_;
    return AddOutcome::kAdded;
}

AddOutcome SnapshotBuilder::add_trail(std::uint16_t feed_index, std::string_view line,
                                      std::string_view info, std::string_view reference) {
    const ParsedTrail trail = parse_trail_line(line, scratch_);
    return add_trail(feed_index, add_source(info, reference), trail);
}

bool SnapshotBuilder::add_whitelist(const ParsedTrail& entry) {
    if (entry.line_class != LineClass::kTrail || entry.kind == IndicatorKind::kIpPort) {
        return false;
    }
    TrailSnapshot& snap = *snapshot_;
    bool inserted = false;
    const std::uint32_t marker = 0;
    switch (entry.kind) {
        case IndicatorKind::kIp:
            if (entry.v6) {
                snap.whitelist_v6_.insert(to_v6_key(entry.v6_addr), marker, inserted);
            } else {
                snap.whitelist_v4_.insert(entry.v4, marker, inserted);
            }
            break;
        case IndicatorKind::kCidr:
            if (entry.v6) {
                snap.whitelist_cidr6_.insert(to_v6_key(entry.v6_addr), entry.prefix, marker,
                                             inserted);
            } else {
                snap.whitelist_cidr4_.insert(entry.v4, entry.prefix, marker, inserted);
            }
            break;
        case IndicatorKind::kDomain:
            if (!pending_->whitelist_names.contains(entry.text)) {
                pending_->whitelist_names.insert(snap.arena_.store(entry.text));
                inserted = true;
            }
            break;
        case IndicatorKind::kIpPort:
            break;
    }
    pending_->whitelist_entries += inserted ? 1 : 0;
    return inserted;
}

bool SnapshotBuilder::add_whitelist(std::string_view line) {
    return add_whitelist(parse_trail_line(line, scratch_));
}

std::size_t SnapshotBuilder::whitelist_size() const {
    return pending_->whitelist_entries;
}

void SnapshotBuilder::suppress(std::uint32_t index) {
    TrailSnapshot& snap = *snapshot_;
    FeedInfo& info = snap.feeds_[snap.store_[index].feed];
    --info.indicators;
    ++info.whitelisted;
    --snap.size_;
}

void SnapshotBuilder::fold_whitelisted_names() {
    TrailSnapshot& snap = *snapshot_;
    const auto stop = [&snap](std::string_view name) {
        const auto ref =
            static_cast<std::uint32_t>(snap.stop_names_.size()) | TrailSnapshot::kStopBit;
        snap.stop_names_.push_back(name);
        return ref;
    };
    for (std::string_view name : pending_->whitelist_names) {
        bool inserted = false;
        std::uint32_t& ref = snap.domain_insert(hash_domain(name), name, 0, inserted);
        if (!inserted) {
            suppress(ref);
        }
        ref = stop(name);
    }
    for (std::uint32_t i = 0; i < snap.store_.size(); ++i) {
        const Indicator& indicator = snap.store_[i];
        if (indicator.kind != IndicatorKind::kDomain) {
            continue;
        }
        std::string_view parent = indicator.trail;
        for (std::size_t dot = parent.find('.'); dot != std::string_view::npos;
             dot = parent.find('.')) {
            parent.remove_prefix(dot + 1);
            if (pending_->whitelist_names.contains(parent)) {
                bool inserted = false;
                std::uint32_t& ref =
                    snap.domain_insert(hash_domain(indicator.trail), indicator.trail, 0, inserted);
                if ((ref & TrailSnapshot::kStopBit) == 0) {
                    suppress(i);
                    ref = stop(indicator.trail);
                }
                break;
            }
        }
    }
}

void SnapshotBuilder::fold_whitelisted_addresses() {
    TrailSnapshot& snap = *snapshot_;
    for (std::uint32_t i = 0; i < snap.store_.size(); ++i) {
        const Indicator& indicator = snap.store_[i];
        if (indicator.kind != IndicatorKind::kIp && indicator.kind != IndicatorKind::kIpPort) {
            continue;
        }
        const bool v6 = indicator.trail.find(':') != std::string_view::npos &&
                        (indicator.kind == IndicatorKind::kIp || indicator.trail[0] == '[');
        std::string_view address = indicator.trail;
        if (indicator.kind == IndicatorKind::kIpPort) {
            address = v6 ? address.substr(1, address.find(']') - 1)
                         : address.substr(0, address.rfind(':'));
        }
        std::uint32_t* slot = nullptr;
        if (v6) {
            const V6Key key = to_v6_key(parse_ipv6(address).value());
            if (snap.whitelisted_v6(key)) {
                slot = indicator.kind == IndicatorKind::kIp
                           ? snap.v6_.find_mutable(key)
                           : snap.v6_port_.find_mutable(
                                 {key.hi, key.lo, parse_port_suffix(indicator.trail)});
            }
        } else {
            const std::uint32_t addr = parse_ipv4(address).value();
            if (snap.whitelisted_v4(addr)) {
                slot = indicator.kind == IndicatorKind::kIp
                           ? snap.v4_.find_mutable(addr)
                           : snap.v4_port_.find_mutable(std::uint64_t{addr} << 16 |
                                                        parse_port_suffix(indicator.trail));
            }
        }
        if (slot != nullptr) {
            *slot = TrailSnapshot::kSuppressed;
            suppress(i);
        }
    }
}

std::shared_ptr<const Snapshot> SnapshotBuilder::build() {
    if (!pending_->whitelist_names.empty()) {
        fold_whitelisted_names();
    }
    const TrailSnapshot& snap = *snapshot_;
    const bool address_whitelist = !snap.whitelist_v4_.empty() || !snap.whitelist_v6_.empty() ||
                                   !snap.whitelist_cidr4_.empty() || !snap.whitelist_cidr6_.empty();
    if (address_whitelist) {
        fold_whitelisted_addresses();
    }
    snapshot_->finish_domains();
    snapshot_->finish_addresses();
    std::shared_ptr<const Snapshot> result = std::move(snapshot_);
    snapshot_ = std::make_unique<TrailSnapshot>();
    pending_ = std::make_unique<Pending>();
    return result;
}

}  // namespace malfix::intel
