import Foundation
import Testing

@testable import RDSweep

/// What rdlab reads from Slurm's commands, on their real output formats.
@Suite("Slurm parsing")
struct SlurmParsingTests {
    @Test func arrayIndicesAreRuns() {
        #expect(SbatchScript.arrayIndices([0, 1, 2, 3, 4, 5]) == "0-5")
        #expect(SbatchScript.arrayIndices([7, 3, 9, 10, 11]) == "3,7,9-11")
        #expect(SbatchScript.arrayIndices([4]) == "4")
        #expect(SbatchScript.arrayIndices([]) == "")
    }

    @Test func sacctLinesGiveEachTaskItsState() {
        let text = """
            12_0|COMPLETED|0:0|node1
            12_1|FAILED|1:0|node2
            12_2|CANCELLED by 0|0:15|node1
            12_3|TIMEOUT|0:15|node3
            12_4|OUT_OF_MEMORY|0:125|node3
            12_[5-7%2]|PENDING|0:0|None assigned
            """
        let states = SlurmTaskState.parse(sacct: text)
        #expect(states.count == 8)
        #expect(states["12_0"]?.state == .completed)
        #expect(states["12_1"] == SlurmTaskState(task: "12_1", state: .failed, exitCode: "1:0", node: "node2"))
        #expect(states["12_2"]?.state == .cancelled && states["12_3"]?.state == .timeout && states["12_4"]?.state == .outOfMemory)
        #expect(states["12_6"] == SlurmTaskState(task: "12_6", state: .pending, exitCode: "0:0", node: nil))
    }

    /// `scontrol --oneliner show job` as Slurm 22.05 prints it (fields abridged).
    @Test func scontrolLinesGiveEachTaskItsState() {
        let text = """
            JobId=9 ArrayJobId=5 ArrayTaskId=0 ArrayTaskThrottle=2 JobName=rdlab-toy6 JobState=CANCELLED Reason=None ExitCode=0:15 NodeList=vm Command=/tmp/x y.sh
            JobId=10 ArrayJobId=5 ArrayTaskId=1 ArrayTaskThrottle=2 JobName=rdlab-toy6 JobState=RUNNING Reason=None ExitCode=0:0 NodeList=vm
            JobId=5 ArrayJobId=5 ArrayTaskId=2-5%2 ArrayTaskThrottle=2 JobName=rdlab-toy6 JobState=PENDING Reason=JobArrayTaskLimit ExitCode=0:0 NodeList=(null)
            """
        let states = SlurmTaskState.parse(scontrol: text)
        #expect(states.count == 6)
        #expect(states["5_0"] == SlurmTaskState(task: "5_0", state: .cancelled, exitCode: "0:15", node: "vm"))
        #expect(states["5_1"]?.state == .running)
        #expect(states["5_4"] == SlurmTaskState(task: "5_4", state: .pending, exitCode: "0:0", node: nil, reason: "JobArrayTaskLimit"))
    }

    /// Held, requeued or suspended tasks are still Slurm's, and a state rdlab does not know
    /// counts as queued: a point is never submitted twice on a guess.
    @Test func everyStateThatIsNotFinalIsActive() {
        for word in ["REQUEUED", "REQUEUE_HOLD", "SPECIAL_EXIT"] { #expect(SlurmTaskState.State(slurm: word) == .pending) }
        for word in ["SUSPENDED", "STAGE_OUT", "COMPLETING"] { #expect(SlurmTaskState.State(slurm: word) == .running) }
        let unknown = ScheduledPointState(point: .stopped(epochs: 1), task: "1_0", slurm: SlurmTaskState(task: "1_0", state: .other("NEW_STATE")))
        #expect(unknown.standing == .queued && !unknown.submittable)
    }

    @Test func namesAndPathsAreSafeInTheScript() {
        let script = SbatchScript(sweep: SweepDirectory(url: URL(fileURLWithPath: "/s")), name: "my sweep\nrm -rf ~", points: [0],
            request: SlurmRequest(), executable: URL(fileURLWithPath: "/bin/rdlab"))
        #expect(script.jobName == "rdlab-my-sweep-rm--rf--")
        #expect(!script.text.contains("rm -rf"))
        #expect(SbatchScript.problem(with: "/shared/me/sweeps/hit") == nil)
        for path in ["/a b/s", "/a%j/s", "/a'b/s", "/a\nb"] { #expect(SbatchScript.problem(with: path) != nil, "\(path)") }
    }

    @Test func theSchedulerDecidesWhatIsQueuedRunningOrFailed() {
        func standing(_ point: PointState, _ state: SlurmTaskState.State?) -> ScheduledPointState.Standing {
            ScheduledPointState(point: point, task: state.map { _ in "1_0" }, slurm: state.map { SlurmTaskState(task: "1_0", state: $0) })
                .standing
        }
        #expect(standing(.pending, .pending) == .queued)
        #expect(standing(.stopped(epochs: 2), .running) == .running)
        #expect(standing(.stopped(epochs: 2), .cancelled) == .failed)
        #expect(standing(.stopped(epochs: 2), .timeout) == .failed)
        #expect(standing(.pending, .nodeFail) == .failed)
        #expect(standing(.stopped(epochs: 2), .completed) == .stopped)
        #expect(standing(.stopped(epochs: 2), nil) == .stopped)
        #expect(standing(.pending, nil) == .pending)
        #expect(ScheduledPointState(point: .stopped(epochs: 1), task: nil, slurm: nil).submittable)
        #expect(!ScheduledPointState(point: .pending, task: "1_0", slurm: SlurmTaskState(task: "1_0", state: .failed)).submittable)
    }
}
