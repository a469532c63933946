import Foundation

/// What Slurm says of one array task, from `sacct` (the accounting database: complete
/// history) or, where accounting is off, `scontrol show job` (the controller's memory:
/// pending, running and recently ended jobs).
public struct SlurmTaskState: Equatable, Sendable {
    /// Slurm's job states (`sacct --helpformat`'s State), with the ones rdlab acts on named.
    public enum State: Equatable, Sendable {
        case pending, running, completed, failed, timeout, outOfMemory, cancelled, nodeFail, preempted
        /// A state rdlab does not know, as Slurm spells it; counted as still active, so a point
        /// is never submitted twice on a guess.
        case other(String)

        /// From Slurm's spelling; `CANCELLED by 1000` is `cancelled`.
        public init(slurm text: String) {
            let word = text.split(separator: " ").first.map(String.init)?.uppercased() ?? ""
            switch word {
            // held or put back in the queue: it will run again
            case "PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "SPECIAL_EXIT": self = .pending
            case "RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT", "RESIZING":
                self = .running
            case "COMPLETED": self = .completed
            case "FAILED": self = .failed
            case "TIMEOUT", "DEADLINE": self = .timeout
            case "OUT_OF_MEMORY": self = .outOfMemory
            case "CANCELLED": self = .cancelled
            case "NODE_FAIL", "BOOT_FAIL": self = .nodeFail
            case "PREEMPTED": self = .preempted
            default: self = .other(word)
            }
        }


        /// Ended without finishing: `submit --failed` submits the point again (it resumes from
        /// its checkpoint).
        public var endedEarly: Bool {
            switch self {
            case .failed, .timeout, .outOfMemory, .cancelled, .nodeFail, .preempted: true
            default: false
            }
        }

        public var name: String {
            switch self {
            case .pending: "queued"
            case .running: "running"
            case .completed: "completed"
            case .failed: "failed"
            case .timeout: "timed out"
            case .outOfMemory: "out of memory"
            case .cancelled: "cancelled"
            case .nodeFail: "node failed"
            case .preempted: "preempted"
            case .other(let word): word.lowercased()
            }
        }
    }

    /// `<job>_<task>`.
    public var task: String
    public var state: State
    /// `exit:signal`, as Slurm prints it (`1:0`, `0:15`).
    public var exitCode: String?
    public var node: String?
    /// Why it is pending (`Resources`, `JobArrayTaskLimit`).
    public var reason: String?

    public init(task: String, state: State, exitCode: String? = nil, node: String? = nil, reason: String? = nil) {
        self.task = task
        self.state = state
        self.exitCode = exitCode
        self.node = node
        self.reason = reason
    }

    /// `sacct --noheader --parsable2 --allocations --format=JobID,State,ExitCode,NodeList`
    /// lines (`123_4|FAILED|1:0|node7`). A pending array's unstarted remainder is one line
    /// `123_[5-9%2]`, expanded here to one state per task.
    public static func parse(sacct text: String) -> [String: SlurmTaskState] {
        var states: [String: SlurmTaskState] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 4 else { continue }
            let state = State(slurm: fields[1])
            for task in expand(fields[0]) {
                states[task] = SlurmTaskState(task: task, state: state, exitCode: fields[2].isEmpty ? nil : fields[2],
                    node: usefulNode(fields[3]))
            }
        }
        return states
    }

    /// `scontrol --oneliner show job JOB` lines: `JobId=7 ArrayJobId=5 ArrayTaskId=2 … JobState=FAILED
    /// Reason=NonZeroExitCode … ExitCode=1:0 … NodeList=node7 …`; an unstarted remainder has
    /// `ArrayTaskId=3-5%2`.
    public static func parse(scontrol text: String) -> [String: SlurmTaskState] {
        var states: [String: SlurmTaskState] = [:]
        for line in text.split(separator: "\n") {
            var fields: [String: String] = [:]
            for word in line.split(separator: " ") {
                guard let equals = word.firstIndex(of: "=") else { continue }
                let key = String(word[..<equals])
                if fields[key] == nil { fields[key] = String(word[word.index(after: equals)...]) }
            }
            guard let job = fields["ArrayJobId"], let tasks = fields["ArrayTaskId"], let state = fields["JobState"] else { continue }
            for task in expand("\(job)_\(tasks)") {
                states[task] = SlurmTaskState(task: task, state: State(slurm: state), exitCode: fields["ExitCode"],
                    node: fields["NodeList"].flatMap(usefulNode),
                    reason: fields["Reason"].flatMap { $0 == "None" ? nil : $0 })
            }
        }
        return states
    }

    /// `123_4` → [`123_4`]; `123_[5-7,9%2]` or `123_5-7,9%2` → [`123_5`, `123_6`, `123_7`, `123_9`].
    static func expand(_ id: String) -> [String] {
        guard let underscore = id.firstIndex(of: "_") else { return [] }
        let job = id[..<underscore]
        var list = id[id.index(after: underscore)...]
        if list.hasPrefix("[") { list = list.dropFirst() }
        if let end = list.firstIndex(where: { $0 == "]" || $0 == "%" }) { list = list[..<end] }
        var tasks: [String] = []
        for part in list.split(separator: ",") {
            let bounds = part.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 1 {
                tasks.append("\(job)_\(bounds[0])")
            } else if bounds.count == 2, bounds[0] <= bounds[1], bounds[1] - bounds[0] < 1_000_000 {
                tasks += (bounds[0]...bounds[1]).map { "\(job)_\($0)" }
            }
        }
        return tasks
    }

    private static func usefulNode(_ text: String) -> String? {
        text.isEmpty || text == "None assigned" || text == "(null)" ? nil : text
    }
}
