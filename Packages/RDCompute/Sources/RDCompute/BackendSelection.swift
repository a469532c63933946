import Foundation
import Logging

/// A parsed `--backend` / `RDLAB_BACKEND` value: `auto`, or `NAME[:DEVICE]`, where DEVICE is
/// an index into the family's device list or a case-insensitive substring of the platform
/// name or vendor or the device name, vendor or version (`opencl:1`, `opencl:pocl`).
public struct BackendRequest: Equatable, Sendable, CustomStringConvertible {
    /// How a device is named inside a family.
    public enum DeviceSelector: Equatable, Sendable {
        case index(Int)
        case matching(String)
    }

    /// `nil` means `auto`.
    public var backend: String?
    public var device: DeviceSelector?

    public static let auto = BackendRequest(backend: nil, device: nil)

    public init(backend: String?, device: DeviceSelector? = nil) {
        self.backend = backend
        self.device = device
    }

    /// Parses the grammar, checking the family name against `validNames`.
    public init(parsing text: String, validNames: [String]) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = parts[0].lowercased()
        if name == "auto" && parts.count == 1 {
            self = .auto
            return
        }
        guard validNames.contains(name) else {
            throw ComputeError.unknownBackend(name: trimmed, valid: ["auto"] + validNames.map { "\($0)[:DEVICE]" })
        }
        backend = name
        guard parts.count == 2 else { return }
        let selector = parts[1].trimmingCharacters(in: .whitespaces)
        guard !selector.isEmpty else {
            throw ComputeError.invalidArgument(
                op: "--backend", reason: "'\(text)' names no device after ':'; use an index or part of a name")
        }
        device = Int(selector).map(DeviceSelector.index) ?? .matching(selector)
    }

    public var description: String {
        guard let backend else { return "auto" }
        switch device {
        case nil: return backend
        case .index(let i): return "\(backend):\(i)"
        case .matching(let s): return "\(backend):\(s)"
        }
    }
}

/// The backend a run got, and how it got it.
public struct BackendSelection: Sendable {
    public let backend: any Backend
    public let requested: BackendRequest
    /// Set when the request could not be honoured and the CPU backend stands in.
    public let fallbackReason: String?
}

extension BackendRegistry {
    /// The family every request falls back to; always registered and always usable.
    public static let fallbackName = "cpu"

    /// Resolves a request to one backend instance.
    ///
    /// `auto` takes the best GPU of any non-CPU family, else the CPU backend. A named
    /// family without a device picks its best GPU; CPU-kind devices of other families
    /// (PoCL) are used only when named by index or substring. When the request cannot be
    /// honoured, the CPU backend is returned with one WARN line giving the reason, unless
    /// `strict`, in which case the reason is thrown. A backend that lacks ops runs them on the
    /// CPU backend (see ``completingOps(of:strict:allowOpFallback:logger:)``); under `strict`
    /// only with `allowOpFallback`.
    public func select(_ request: BackendRequest, strict: Bool, allowOpFallback: Bool = false,
        logger: Logger) throws -> BackendSelection {
        try completingOps(of: try selectWhole(request, strict: strict, logger: logger), strict: strict,
            allowOpFallback: allowOpFallback, logger: logger)
    }

    /// The backend of a request, or the CPU backend standing in for it, as ``select(_:strict:allowOpFallback:logger:)``
    /// describes, before its missing ops are completed.
    private func selectWhole(_ request: BackendRequest, strict: Bool, logger: Logger) throws -> BackendSelection {
        do {
            let backend = try open(request, logger: logger)
            return BackendSelection(backend: backend, requested: request, fallbackReason: nil)
        } catch let error as ComputeError {
            guard request.backend != nil, request.backend != Self.fallbackName else { throw error }
            if strict { throw error }
            guard let cpu = factory(named: Self.fallbackName) else { throw error }
            let reason = error.summary
            let backend = try cpu.makeBackend(on: cpu.devices()[0])
            logger.warning("backend '\(request)' unusable, falling back to cpu: \(reason)")
            return BackendSelection(backend: backend, requested: request, fallbackReason: error.description)
        }
    }

    private func open(_ request: BackendRequest, logger: Logger) throws -> any Backend {
        guard let name = request.backend else {
            for factory in all where factory.name != Self.fallbackName {
                guard let devices = try? factory.devices(), let best = Self.bestGPU(devices) else { continue }
                do {
                    return try factory.makeBackend(on: best)
                } catch {
                    logger.warning("auto: \(best.selector) (\(best.name)) unusable, trying the next: \(error)")
                }
            }
            guard let cpu = factory(named: Self.fallbackName) else {
                throw ComputeError.noDevice(backend: "auto", reason: "no backend registered")
            }
            return try cpu.makeBackend(on: cpu.devices()[0])
        }
        guard let factory = factory(named: name) else {
            throw ComputeError.unknownBackend(name: name, valid: names)
        }
        do {
            let device = try Self.choose(request.device, among: try factory.devices(), family: name)
            return try factory.makeBackend(on: device)
        } catch let error as ComputeError {
            throw error
        } catch {
            // a plugin's own error type: reported, and fallen back from, like rdlab's
            throw ComputeError.noDevice(backend: name, reason: "\(error)")
        }
    }

    /// The most capable GPU: most memory, then most compute units.
    static func bestGPU(_ devices: [DeviceDescription]) -> DeviceDescription? {
        devices.filter { $0.kind == .gpu }.max {
            ($0.globalMemoryBytes, $0.computeUnits) < ($1.globalMemoryBytes, $1.computeUnits)
        }
    }

    /// Applies a device selector to a family's device list.
    public static func choose(_ selector: BackendRequest.DeviceSelector?, among devices: [DeviceDescription],
        family: String) throws -> DeviceDescription {
        let listing = devices.map { "  \($0)" }.joined(separator: "\n")
        switch selector {
        case nil:
            if family == fallbackName, let first = devices.first { return first }
            if let gpu = bestGPU(devices) { return gpu }
            if let accelerator = devices.first(where: { $0.kind == .accelerator }) { return accelerator }
            let named = devices.isEmpty ? "" : "; CPU devices are used only when named, e.g. \(family):\(devices[0].index); devices:\n\(listing)"
            throw ComputeError.noDevice(backend: family, reason: "no GPU device found\(named)")
        case .index(let i):
            guard let device = devices.first(where: { $0.index == i }) else {
                throw ComputeError.noDevice(backend: family, reason: "no device \(i); devices:\n\(listing)")
            }
            return device
        case .matching(let text):
            let needle = text.lowercased()
            guard let device = devices.first(where: { d in d.selectorTerms.contains { $0.lowercased().contains(needle) } })
            else {
                throw ComputeError.noDevice(backend: family, reason: "no device matches '\(text)'; devices:\n\(listing)")
            }
            return device
        }
    }
}
