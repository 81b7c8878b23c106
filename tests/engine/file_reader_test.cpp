#include "engine/file_reader.hpp"

#include "tests/engine/recording_consumer.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

using malfix::engine::FileReader;
using malfix::engine::frame_message;
using malfix::engine::FrameStatus;
using malfix::engine::InputSummary;
using malfix::ipfix::Transport;
using malfix::test::data_path;
using malfix::test::ipfix_message;
using malfix::test::RecordingConsumer;
using malfix::test::TempFile;

namespace {

std::vector<std::byte> bytes_of(std::initializer_list<unsigned> values) {
    std::vector<std::byte> out;
    for (const unsigned v : values) {
        out.push_back(std::byte(static_cast<unsigned char>(v)));
    }
    return out;
}

// Lengths of the Messages in a well-formed file, by walking their headers.
std::vector<std::size_t> message_lengths(const std::vector<std::byte>& file) {
    std::vector<std::size_t> lengths;
    std::size_t offset = 0;
    while (offset + 16 <= file.size()) {
        const auto frame = frame_message(std::span(file).subspan(offset));
        REQUIRE(frame.status == FrameStatus::kComplete);
        lengths.push_back(frame.length);
        offset += frame.length;
    }
    return lengths;
}

}  // namespace

TEST_CASE("a header is framed only when Version and Length allow it", "[engine][file]") {
    // 00 0a = Version 10, 00 14 = Length 20, then the rest of a header.
    const auto header = bytes_of({0x00, 0x0a, 0x00, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    CHECK(frame_message(std::span(header).first(1)).status == FrameStatus::kNeedMore);
    CHECK(frame_message(std::span(header).first(3)).status == FrameStatus::kNeedMore);
    CHECK(frame_message(header).status == FrameStatus::kNeedMore);  // 16 of 20 octets

    const auto message = ipfix_message(20);
    const auto complete = frame_message(message);
    CHECK(complete.status == FrameStatus::kComplete);
    CHECK(complete.length == 20);

    // 00 09 = NetFlow v9
    CHECK(frame_message(bytes_of({0x00, 0x09})).status == FrameStatus::kBadVersion);
    // Length 15 can not even hold the header
    CHECK(frame_message(bytes_of({0x00, 0x0a, 0x00, 0x0f})).status == FrameStatus::kBadLength);
}

TEST_CASE("the file reader frames every Message of a yaf file", "[engine][file]") {
    const std::string path = data_path("captures/yaf_dns_dpi.yaf");
    RecordingConsumer consumer;
    const InputSummary summary = FileReader(path).run(consumer);

    CHECK(summary.messages == 3);
    CHECK(summary.bytes == 4170);
    CHECK(summary.rejected == 0);
    CHECK(summary.resyncs == 0);
    CHECK(summary.error_count == 0);
    const auto messages = consumer.messages();
    REQUIRE(messages.size() == 3);
    for (const auto& m : messages) {
        CHECK(m.exporter == "file:" + path);
        CHECK(m.transport == Transport::kFile);
        CHECK(m.head[1] == std::byte{10});
    }
    CHECK(consumer.closed() == std::vector<std::string>{"file:" + path});
    CHECK(consumer.flushes() == 1);
}

TEST_CASE("the file reader frames the 15 Messages of an ipfixcol file", "[engine][file]") {
    RecordingConsumer consumer;
    const InputSummary summary = FileReader(data_path("captures/02-odid0.ipfix")).run(consumer);

    CHECK(summary.messages == 15);
    CHECK(summary.bytes == 8172);
    CHECK(summary.errors.empty());
    const auto file = malfix::test::read_file(data_path("captures/02-odid0.ipfix"));
    const auto lengths = message_lengths(file);
    const auto messages = consumer.messages();
    REQUIRE(messages.size() == lengths.size());
    for (std::size_t i = 0; i < lengths.size(); ++i) {
        CHECK(messages[i].length == lengths[i]);
    }
}

TEST_CASE("a Message the consumer rejects is skipped and reading goes on", "[engine][file]") {
    RecordingConsumer consumer;
    consumer.reject_when([](std::size_t index, auto) { return index == 1 || index == 7; });
    const InputSummary summary = FileReader(data_path("captures/02-odid0.ipfix")).run(consumer);

    CHECK(summary.messages == 15);
    CHECK(summary.rejected == 2);
    CHECK(summary.resyncs == 0);
    CHECK(consumer.messages().size() == 15);
}

TEST_CASE("garbage between Messages is skipped by resynchronising", "[engine][file][malformed]") {
    const auto original = malfix::test::read_file(data_path("captures/02-odid0.ipfix"));
    const auto lengths = message_lengths(original);
    const std::size_t cut = lengths[0] + lengths[1];

    // 37 octets of 0xab after the second Message: Version 0xabab, framing lost there.
    std::vector<std::byte> damaged(original.begin(), original.begin() + cut);
    damaged.insert(damaged.end(), 37, std::byte{0xab});
    damaged.insert(damaged.end(), original.begin() + cut, original.end());
    const TempFile file("garbage.ipfix");
    malfix::test::write_file(file.path(), damaged);

    RecordingConsumer consumer;
    const InputSummary summary = FileReader(file.path().string()).run(consumer);

    CHECK(summary.messages == 15);
    CHECK(summary.resyncs == 1);
    CHECK(summary.skipped_bytes == 37);
    REQUIRE(summary.errors.size() == 1);
    CHECK_THAT(summary.errors[0],
               Catch::StartsWith(file.path().string() + ": offset " + std::to_string(cut) + ":"));
    CHECK_THAT(summary.errors[0], Catch::Contains("Version 43947"));
}

TEST_CASE("a Message Header with a bad Length is resynchronised past",
          "[engine][file][malformed]") {
    // Three Messages; the second one's Length is overwritten with 8 (under 16).
    std::vector<std::byte> bytes;
    for (const std::size_t length : {40U, 60U, 48U}) {
        const auto m = ipfix_message(length);
        bytes.insert(bytes.end(), m.begin(), m.end());
    }
    bytes[40 + 2] = std::byte{0};
    bytes[40 + 3] = std::byte{8};
    const TempFile file("badlength.ipfix");
    malfix::test::write_file(file.path(), bytes);

    RecordingConsumer consumer;
    const InputSummary summary = FileReader(file.path().string()).run(consumer);

    CHECK(summary.messages == 2);
    CHECK(summary.resyncs == 1);
    CHECK(summary.skipped_bytes == 60);
    REQUIRE(summary.errors.size() == 1);
    CHECK_THAT(summary.errors[0], Catch::Contains("offset 40: Length 8 is under 16"));
    const auto messages = consumer.messages();
    REQUIRE(messages.size() == 2);
    CHECK(messages[1].length == 48);
}

TEST_CASE("a truncated file reports the cut Message", "[engine][file][malformed]") {
    const auto original = malfix::test::read_file(data_path("captures/02-odid0.ipfix"));
    const auto lengths = message_lengths(original);
    std::vector<std::byte> cut(original.begin(), original.end() - 10);
    const TempFile file("truncated.ipfix");
    malfix::test::write_file(file.path(), cut);

    RecordingConsumer consumer;
    const InputSummary summary = FileReader(file.path().string()).run(consumer);

    CHECK(summary.messages == 14);
    CHECK(summary.skipped_bytes == lengths.back() - 10);
    REQUIRE(summary.error_count == 1);
    CHECK_THAT(summary.errors[0], Catch::Contains("runs past the end of the file"));
    CHECK(consumer.closed().size() == 1);
}

TEST_CASE("a file cut inside a Message Header reports it", "[engine][file][malformed]") {
    auto bytes = ipfix_message(24);
    const auto second = ipfix_message(24);
    bytes.insert(bytes.end(), second.begin(), second.begin() + 9);
    const TempFile file("cutheader.ipfix");
    malfix::test::write_file(file.path(), bytes);

    RecordingConsumer consumer;
    const InputSummary summary = FileReader(file.path().string()).run(consumer);

    CHECK(summary.messages == 1);
    CHECK(summary.skipped_bytes == 9);
    REQUIRE(summary.errors.size() == 1);
    CHECK_THAT(summary.errors[0], Catch::Contains("offset 24: truncated Message Header"));
}

TEST_CASE("a file of garbage yields no Message and one error", "[engine][file][malformed]") {
    const std::vector<std::byte> garbage(5000, std::byte{0x5a});
    const TempFile file("allgarbage.ipfix");
    malfix::test::write_file(file.path(), garbage);

    RecordingConsumer consumer;
    const InputSummary summary = FileReader(file.path().string()).run(consumer);

    CHECK(summary.messages == 0);
    CHECK(summary.resyncs == 1);
    CHECK(summary.skipped_bytes == 5000);
    CHECK(summary.error_count == 1);
    CHECK(consumer.closed().size() == 1);
}

TEST_CASE("errors past the kept few are counted, not kept", "[engine][file][malformed]") {
    // Message, 3 octets of garbage, Message, ... : every gap is one lost framing.
    std::vector<std::byte> bytes;
    for (int i = 0; i < 40; ++i) {
        const auto m = ipfix_message(32);
        bytes.insert(bytes.end(), m.begin(), m.end());
        bytes.insert(bytes.end(), 3, std::byte{0xee});
    }
    const TempFile file("manyerrors.ipfix");
    malfix::test::write_file(file.path(), bytes);

    RecordingConsumer consumer;
    const InputSummary summary = FileReader(file.path().string()).run(consumer);

    CHECK(summary.messages == 40);
    CHECK(summary.resyncs == 40);
    CHECK(summary.error_count == 40);
    CHECK(summary.errors.size() == InputSummary::kMaxKeptErrors);
    CHECK(summary.skipped_bytes == 120);
}

TEST_CASE("a missing file throws with its path", "[engine][file]") {
    RecordingConsumer consumer;
    CHECK_THROWS_WITH(FileReader("/nonexistent/malfix.ipfix").run(consumer),
                      Catch::Contains("/nonexistent/malfix.ipfix"));
}
