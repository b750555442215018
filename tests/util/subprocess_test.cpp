// Running another program: exit status, the log, and echoing its output as it comes.
#include "util/subprocess.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace vitc {
namespace {

TEST(Subprocess, LogsOutputAndReportsTheExitStatus) {
  const std::string dir = test_support::fresh_dir("vitc_subprocess_log");
  const std::string log = dir + "/run.log";
  testing::internal::CaptureStderr();
  const SubprocessResult r =
      run_subprocess({"sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"}, log);
  const std::string echoed = testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(test_support::read_text(log), "to-stdout\nto-stderr\n");
  EXPECT_EQ(echoed.find("to-stdout"), std::string::npos) << "printed without echo: " << echoed;
}

TEST(Subprocess, EchoCopiesTheOutputToStderrAndTheLog) {
  const std::string dir = test_support::fresh_dir("vitc_subprocess_echo");
  const std::string log = dir + "/run.log";
  test_support::write_text(log, "earlier run\n");  // appended to, never replaced
  testing::internal::CaptureStderr();
  const SubprocessResult r = run_subprocess(
      {"sh", "-c", "for i in 1 2 3; do echo step $i; done; echo done >&2"}, log, /*echo=*/true);
  const std::string echoed = testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(test_support::read_text(log), "earlier run\nstep 1\nstep 2\nstep 3\ndone\n");
  EXPECT_EQ(echoed, "step 1\nstep 2\nstep 3\ndone\n");
}

TEST(Subprocess, MissingProgramAndBadLogAreNamed) {
  const std::string dir = test_support::fresh_dir("vitc_subprocess_bad");
  EXPECT_NE(test_support::error_of([&] {
              run_subprocess({"vitc-no-such-program"}, dir + "/x.log", true);
            }).find("cannot start vitc-no-such-program"),
            std::string::npos);
  EXPECT_NE(test_support::error_of([&] {
              run_subprocess({"true"}, dir + "/missing/x.log");
            }).find(dir + "/missing/x.log"),
            std::string::npos);
}

}  // namespace
}  // namespace vitc
