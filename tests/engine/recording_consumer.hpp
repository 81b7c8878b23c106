#pragma once

// Test double of engine::MessageConsumer shared by the input tests: it records what the
// inputs hand over, and can be told to reject Messages. Guarded by a mutex because listener
// tests read it while an input thread writes.

#include "engine/input.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace malfix::test {

struct RecordedMessage {
    std::string exporter;
    ipfix::Transport transport = ipfix::Transport::kFile;
    std::size_t length = 0;
    std::vector<std::byte> head;  // the first 24 octets: Message Header and first Set
};

class RecordingConsumer : public engine::MessageConsumer {
public:
    engine::Verdict on_message(ipfix::Session& session,
                               std::span<const std::byte> message) override {
        const std::lock_guard lock(mutex_);
        RecordedMessage recorded;
        recorded.exporter = session.exporter();
        recorded.transport = session.transport();
        recorded.length = message.size();
        const auto head = message.first(std::min<std::size_t>(message.size(), 24));
        recorded.head.assign(head.begin(), head.end());
        messages_.push_back(std::move(recorded));
        const std::size_t index = messages_.size() - 1;
        return reject_ && reject_(index, message) ? engine::Verdict::kRejected
                                                  : engine::Verdict::kAccepted;
    }

    void flush() override {
        const std::lock_guard lock(mutex_);
        ++flushes_;
    }

    void on_session_closed(ipfix::Session& session) override {
        const std::lock_guard lock(mutex_);
        closed_.push_back(session.exporter());
    }

    // Decides per Message (by its index in arrival order) whether to reject it.
    void reject_when(std::function<bool(std::size_t, std::span<const std::byte>)> reject) {
        const std::lock_guard lock(mutex_);
        reject_ = std::move(reject);
    }

    std::vector<RecordedMessage> messages() const {
        const std::lock_guard lock(mutex_);
        return messages_;
    }
    std::vector<std::string> closed() const {
        const std::lock_guard lock(mutex_);
        return closed_;
    }
    std::size_t flushes() const {
        const std::lock_guard lock(mutex_);
        return flushes_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<RecordedMessage> messages_;
    std::vector<std::string> closed_;
    std::size_t flushes_ = 0;
    std::function<bool(std::size_t, std::span<const std::byte>)> reject_;
};

// A framing-valid IPFIX Message of total_length octets (at least 20): the header, then one
// Set with ID 256 filling the rest with fill.
inline std::vector<std::byte> ipfix_message(std::size_t total_length, std::uint8_t fill = 0x11,
                                            std::uint32_t domain = 0) {
    std::vector<std::byte> m;
    m.reserve(total_length);
    const auto put16 = [&m](std::size_t v) {
        m.push_back(std::byte(static_cast<unsigned char>(v >> 8)));
        m.push_back(std::byte(static_cast<unsigned char>(v)));
    };
    const auto put32 = [&put16](std::uint32_t v) {
        put16(v >> 16);
        put16(v & 0xffffU);
    };
    put16(10);
    put16(total_length);
    put32(1700000000);  // Export Time
    put32(0);           // Sequence Number
    put32(domain);
    put16(256);  // Set ID
    put16(total_length - 16);
    m.resize(total_length, std::byte{fill});
    return m;
}

inline std::vector<std::byte> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> bytes(chars.size());
    std::memcpy(bytes.data(), chars.data(), chars.size());
    return bytes;
}

inline void write_file(const std::filesystem::path& path, std::span<const std::byte> bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
}

// A scratch file under the system temp directory, removed when the test ends.
class TempFile {
public:
    explicit TempFile(const std::string& name)
        : path_(std::filesystem::temp_directory_path() /
                ("malfix-inputs-" + std::to_string(::getpid()) + "-" + name)) {}
    ~TempFile() {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Polls pred until it holds or timeout passes; for listener tests waiting on input threads.
inline bool wait_until(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return pred();
}

inline std::string data_path(const std::string& relative) {
    return std::string(MALFIX_TEST_DATA) + "/" + relative;
}

}  // namespace malfix::test
