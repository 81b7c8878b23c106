#pragma once

#include "ipfix/template.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace malfix::ipfix {

/// How a Transport Session carries Messages; it decides template and error rules:
/// UDP templates expire and may be redefined at will, TCP templates live until withdrawn
/// (RFC 7011 §8), a file behaves like a TCP stream (RFC 5655).
enum class Transport : std::uint8_t { kTcp, kUdp, kFile };

/// Template state of one Transport Session, scoped per Observation Domain (RFC 7011 §8).
/// Owned by one input thread; not thread-safe.
class Session {
public:
    Session(Transport transport, std::string exporter, std::int64_t template_timeout_s = 1800);

    Transport transport() const { return transport_; }
    const std::string& exporter() const { return exporter_; }

    /// The live Template for (domain, id), or nullptr. On UDP a template not refreshed within
    /// the timeout is treated as gone (ipfixcol2's default is 1800 s).
    const std::shared_ptr<const Template>* find(std::uint32_t domain, std::uint16_t id,
                                                std::int64_t now) const;
    /// Installs a definition; returns false if, on TCP, a different definition already holds
    /// the ID (it must be withdrawn first). An identical resend only refreshes it.
    /// A new definition gets its min_record_length, fixed_length and a fresh uid here. On
    /// TCP and files a conflicting definition still replaces the old one (as ipfixcol2 does):
    /// losing the Exporter's data is worse than trusting its latest word; the false return
    /// lets the caller count kTemplateRedefined.
    bool define(std::uint32_t domain, Template tmpl, std::int64_t now);
    /// Marks the live Template (domain, id) as just received, as an identical resend does,
    /// without building a Template. Returns false if there is no live Template for the ID.
    bool refresh(std::uint32_t domain, std::uint16_t id, std::int64_t now);
    /// Withdraws one template (id >= 256) or, with id 2 or 3, all templates or all options
    /// templates of the domain. Returns the number withdrawn.
    std::size_t withdraw(std::uint32_t domain, std::uint16_t id);
    std::size_t template_count() const;

    /// systemInitTimeMilliseconds announced for a domain in an Options Template record; 0 if
    /// none. Flow records with flowStart/EndSysUpTime but no init time of their own use it.
    std::uint64_t system_init_ms(std::uint32_t domain) const {
        const auto it = system_init_ms_.find(domain);
        return it == system_init_ms_.end() ? 0 : it->second;
    }
    void set_system_init_ms(std::uint32_t domain, std::uint64_t ms) {
        system_init_ms_[domain] = ms;
    }

    /// Expected Sequence Number per domain; returns false when seq is not the expected one.
    bool check_sequence(std::uint32_t domain, std::uint32_t seq, std::uint32_t records);

private:
    struct Entry {
        std::shared_ptr<const Template> tmpl;
        std::int64_t refreshed = 0;
    };
    static std::uint64_t key(std::uint32_t domain, std::uint16_t id) {
        return (std::uint64_t{domain} << 16) | id;
    }

    Transport transport_;
    std::string exporter_;
    std::int64_t template_timeout_s_;
    std::unordered_map<std::uint64_t, Entry> templates_;
    std::unordered_map<std::uint32_t, std::uint32_t> next_sequence_;
    std::unordered_map<std::uint32_t, std::uint64_t> system_init_ms_;
};

}  // namespace malfix::ipfix
