import ArgumentParser
import Foundation
import Logging
import RDCompute
import RDData
import RDLab

extension Binarization: ExpressibleByArgument {}
extension LearningRateSchedule.Kind: ExpressibleByArgument {}
extension ModelSpec.Kind: ExpressibleByArgument {}
extension ActivationMemory: ExpressibleByArgument {}
extension StepPlanning: ExpressibleByArgument {}
extension Activation: ExpressibleByArgument {
    /// The hidden nonlinearities (linear and sigmoid are output activations only).
    public static var allValueStrings: [String] { allCases.filter(\.isHidden).map(\.rawValue) }
}
extension EncoderKind: ExpressibleByArgument {}
extension DecoderKind: ExpressibleByArgument {}
extension MarginalKind: ExpressibleByArgument {}
extension ChannelKind: ExpressibleByArgument {}
extension EchoIndexTable.Sampling: @retroactive ExpressibleByArgument {}
extension TargetRate.Bound: ExpressibleByArgument {}
extension FreeBits.Grouping: ExpressibleByArgument {}
extension HierarchicalSpec.Inference: ExpressibleByArgument {}
extension ToySpec.Initialization: ExpressibleByArgument {}

/// Comma-separated sizes (`640,640,640`).
struct Sizes: ExpressibleByArgument, Equatable {
    let values: [Int]

    init?(argument: String) {
        let parsed = argument.split(separator: ",", omittingEmptySubsequences: false)
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parsed.isEmpty, !parsed.contains(nil) else { return nil }
        values = parsed.compactMap { $0 }
    }

}

/// `rdlab train`: any model rdlab has (Alemi's families, the Echo autoencoder, the toy model)
/// with any objective, with checkpoints, metrics and pictures.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model (Alemi's twelve β-VAE families, the Echo autoencoder, Alemi's toy model, HIT's hierarchical VAE) and record rate and distortion (nats) per epoch.",
        discussion: """
            Writes OUT/config.json, OUT/metrics.jsonl (train and test R, D, −ELBO per epoch, the rate per \
            latent layer and the weight β or λ), OUT/checkpoint.safetensors (every epoch, atomically, and on \
            SIGINT/SIGTERM), and pictures: OUT/reconstructions.png and OUT/samples.png for image models, \
            OUT/toy.json and OUT/toy.png for --model toy. --resume OUT continues a run from its checkpoint \
            (--epochs and --max-steps may be raised).

            Models: --model alemi (default; --encoder gaussian|iaf, --decoder deconv|pixelcnn and --marginal \
            normal|maf|vamp pick one of Alemi's twelve families, tagged e.g. -+v; --channel delta --delta δ makes \
            the Gaussian encoder the δ-VAE's, every latent dimension paying KL ≥ δ, tagged δ--), --model echo (Echo noise, \
            exact rate), --model toy (Alemi App. E: 30 bins, 30 latent states, exact sums; no dataset), \
            --model hierarchical (HIT: z2 → z1 → x with rates R2 and R1; --hierarchy ghvae|lvae; defaults \
            --dataset mnist --binarize threshold --batch-size 256), --model delta (the δ-VAE: one latent of \
            --latent-dim dimensions per image row under an AR(1) prior with α from --alpha lower:upper, an \
            anti-causal row encoder, a PixelCNN decoder whose row t reads z_1…z_t; its rate never falls below \
            the committed rate δ, which `rdlab delta-rate` computes; --auxiliary-hidden sizes the LSTM prior \
            whose rate is reported as rate_aux_nats).

            Objective: E[D + β·R] by default (β = 1 is the negative ELBO; --kl-anneal-steps ramps β from 0). \
            --target-rate R* minimises D + λ(R − R*) + (c/2)(R − R*)² with λ ← λ + η(R − R*) on the batch rate \
            (--target-rate-lr η, --target-rate-penalty c, --target-rate-bound equal|at-most); \
            --target-distortion κ runs GECO (λ on D − κ, β = 1/λ). --free-bits λ floors each latent \
            dimension's (or, with --free-bits-group layer, the layer's) batch rate at λ nats. \
            --beta1/--beta2 weigh a hierarchical model's layers apart (D + β₁R1 + β₂R2); \
            --kl-warmup-epochs N multiplies every β by min(1, epoch/N).
            """)

    @OptionGroup var selection: BackendOptions
    @OptionGroup var logging: LoggingOptions

    @Option(help: "alemi (default) | echo | toy | hierarchical (HIT's two-layer VAE: rates z1, z2) | delta (δ-VAE: a latent per row, AR(1) prior, committed rate).") var model: ModelSpec.Kind?
    @Option(help: "binarized-mnist | mnist | fashion-mnist (image models; hierarchical: mnist).") var dataset: String?
    @Option(help: "Folder holding the dataset (or <dir>/<dataset>/); see README for the search order.") var dataDir: String?
    @Option(help: "dynamic | threshold | none (default: none for binarized-mnist, dynamic otherwise; hierarchical: threshold, HIT's rounding).") var binarize: Binarization?
    @Option(help: "Latent dimensions (default \(AlemiSpec().latentDimension); hierarchical: of the top layer z2, default \(HierarchicalSpec().topDimension); delta: per image row, default \(DeltaSpec().rowDimension)).") var latentDim: Int?
    @Option(help: ArgumentHelp("Delta: α of the AR(1) prior, lower:upper spaced linearly over the latent dimensions, or one value for all (default \(DeltaSpec().alphaLower):\(DeltaSpec().alphaUpper)).", valueName: "lower:upper"), transform: AlphaRange.argument) var alpha: AlphaRange?
    @Option(help: "Delta: hidden units of the auxiliary LSTM prior trained beside the model (0: none; default \(DeltaSpec().auxiliaryHidden)).") var auxiliaryHidden: Int?
    @Option(help: "Hierarchical: inference ghvae (generalised top-down, default) | lvae (ladder, precision-weighted, with KL warm-up).") var hierarchy: HierarchicalSpec.Inference?
    @Option(help: "Hierarchical: channels c of every convolution; z1 is a 4×4×c map (default \(HierarchicalSpec().channels)).") var channels: Int?
    @Option(help: "Hidden nonlinearity: relu (Echo, default) | gated (Alemi) | softplus | tanh.") var activation: Activation?
    @Flag(help: "Feed 2x − 1 to the encoder (Alemi).") var symmetricInputs = false
    @Option(help: "Alemi: encoder gaussian (diagonal, default) | iaf (mean-only IAF, Monte Carlo rate).") var encoder: EncoderKind?
    @Option(help: "Alemi: marginal of the rate normal (N(0, I), default) | maf | vamp; learned ones use a Monte Carlo rate.") var marginal: MarginalKind?
    @Option(help: "Decoder: deconv (default) | pixelcnn (autoregressive; samples take 784 passes).") var decoder: DecoderKind?
    @Option(help: "Alemi: channel gaussian (μ, σ free, default) | delta (δ-VAE, Razavi et al. App. D: every latent dimension pays KL ≥ δ to N(0, 1); needs --encoder gaussian and --marginal normal). The Echo channel is --model echo.") var channel: ChannelKind?
    @Option(help: "Channel delta: committed rate δ in nats per latent dimension, in (0, 10] (default \(AlemiSpec().delta)); the rate is at least --latent-dim × δ, e.g. 32 × 0.1 = 3.2 nats.") var delta: Double?
    @Option(help: "Alemi: VampPrior mixture components (default \(AlemiSpec().vampComponents)).") var vampComponents: Int?
    @Option(help: "PixelCNN decoder: channels of every layer (default \(AlemiSpec().pixelcnnFeatures)).") var pixelcnnFeatures: Int?
    @Option(help: "PixelCNN decoder: gated resnets per block (default \(AlemiSpec().pixelcnnResnets)).") var pixelcnnResnets: Int?
    @Option(help: "Alemi IAF and MAF: MADE steps (default \(AlemiSpec().flowSteps)).") var flowSteps: Int?
    @Option(help: "Alemi IAF and MAF: hidden sizes of each MADE, comma-separated, each divisible by --latent-dim (default \(AlemiSpec().madeHidden.map(String.init).joined(separator: ","))).") var madeHidden: Sizes?
    @Option(help: "Toy model: where training starts: random (N(0, 1), Alemi's, default) | ordered (state i on bin i; reaches D = H − R at every target rate).") var toyInit: ToySpec.Initialization?
    @Option(help: "Echo: terms d of the noise sum; the clip factor is solved for it (default: batch size − 1).") var echoTerms: Int?
    @Option(help: "Echo: index tables drawn without (the paper, default) or with replacement.") var echoReplacement: EchoIndexTable.Sampling?
    @Option(help: "β of D + β·R (default 1); with --target-rate the initial λ (default 0), with --target-distortion 1/λ.") var beta: Float?
    @Option(help: "Hierarchical: β₁ of the bottom layer's rate R1 in D + β₁R1 + β₂R2 (default: --beta).") var beta1: Float?
    @Option(help: "Hierarchical: β₂ of the top layer's rate R2 (default: --beta).") var beta2: Float?
    @Option(help: "Anneal β linearly from 0 over this many steps (0 = constant).") var klAnnealSteps = 0
    @Option(help: "KL warm-up: every β times min(1, epoch / N) (0 = none; default: epochs / 5 for --hierarchy lvae, as HIT; none otherwise). Saved with the run: --resume keeps it when --epochs grows.") var klWarmupEpochs: Int?
    @Option(help: "Target rate R* in nats: λ of D + λ(R − R*) follows the batch rate by dual ascent.") var targetRate: Double?
    @Option(help: "η_λ of the target rate's multiplier, per nat per step (default \(TargetRate(rate: 0).learningRate)).") var targetRateLr: Double?
    @Option(help: "c of the target rate's quadratic term (c/2)(R − R*)², per nat² (0: plain dual ascent; default \(TargetRate(rate: 0).penalty)).") var targetRatePenalty: Double?
    @Option(help: "equal (R = R*, default) | at-most (R ≤ R*: λ ≥ 0, no push below the bound).") var targetRateBound: TargetRate.Bound?
    @Option(help: "GECO: distortion target κ in nats; λ ← λ·exp(η·C̄) on C = D − κ, β = 1/λ.") var targetDistortion: Double?
    @Option(help: "GECO: η of the multiplier (default \(GECO(distortion: 0).learningRate)).") var gecoLr: Double?
    @Option(help: "GECO: α of the constraint's moving average (default \(GECO(distortion: 0).smoothing)).") var gecoSmoothing: Double?
    @Option(help: "Free bits: floor λ (nats) of each group's batch rate.") var freeBits: Double?
    @Option(help: "Free bits groups: dimension (each latent dimension, default) | layer.") var freeBitsGroup: FreeBits.Grouping?
    @Option(help: "Epochs (default 10; toy: 20 of 100 full-batch steps).") var epochs: Int?
    @Option(help: "Stop after this many steps in total.") var maxSteps: Int?
    @Option(help: "Use only the first N training examples.") var trainLimit: Int?
    @Option(help: "Evaluate on only the first N test examples.") var testLimit: Int?
    @Option(help: "Batch size (default 100; image models).") var batchSize: Int?
    @Option(help: "Adam learning rate (default 3e-4; toy 0.05).") var lr: Float?
    @Option(help: "constant (default) | alemi (constant for the first half, then linear to 0).") var lrSchedule: LearningRateSchedule.Kind?
    @Flag(help: "Normalise each gradient tensor by its L2 norm before Adam (Alemi F.4).") var normalizeGradients = false
    @Option(help: "Seed of initialisation, batching, binarisation and noise (default 0).") var seed: UInt64?
    @Option(help: "What a step keeps for its backward pass: kept (every activation, default) | recomputed (a PixelCNN's gated resnets keep only their inputs and run again in the backward pass: about a third more time, a fraction of the memory, the same numbers). Not saved: give it again on --resume.") var activationMemory: ActivationMemory = .kept
    @Option(help: "How steps run: replayed (default: two steps are recorded, and later steps of the same batch shape replay them over buffers planned once, without a graph per step; the same numbers) | eager (a graph and its tape every step). Steps that cannot be replayed (Echo noise, a β that moves every step, an odd last batch) run eagerly either way. Not saved: give it again on --resume.") var stepPlan: StepPlanning = .replayed
    @Option(help: "Run directory (default runs/<dataset>-<date>).") var out: String?
    @Option(help: "Continue the run in this directory from its checkpoint.") var resume: String?
    @Option(help: "Test examples per image grid (reconstructions.png, samples.png); 0 writes none. A PixelCNN decoder draws its samples pixel by pixel (784 passes per grid). Default 10.") var imageColumns: Int?

    var kind: ModelSpec.Kind { model ?? .alemi }
    var batch: Int { batchSize ?? (kind == .hierarchical ? 256 : 100) }
    var columns: Int { imageColumns ?? 10 }

    /// The models that read images.
    private var images: Set<ModelSpec.Kind> { Set(ModelSpec.Kind.allCases.filter { $0 != .toy }) }

    /// Flags that shape only some models, with the models they belong to.
    var modelFlags: [(given: Bool, flag: String, models: Set<ModelSpec.Kind>)] {
        [(encoder != nil, "--encoder", [.alemi]), (marginal != nil, "--marginal", [.alemi]),
         (channel != nil, "--channel", [.alemi]), (delta != nil, "--delta", [.alemi]),
         (vampComponents != nil, "--vamp-components", [.alemi]), (flowSteps != nil, "--flow-steps", [.alemi]),
         (madeHidden != nil, "--made-hidden", [.alemi]), (echoTerms != nil, "--echo-terms", [.echo]),
         (echoReplacement != nil, "--echo-replacement", [.echo]), (latentDim != nil, "--latent-dim", [.alemi, .echo, .hierarchical, .delta]),
         (hierarchy != nil, "--hierarchy", [.hierarchical]), (channels != nil, "--channels", [.hierarchical]),
         (alpha != nil, "--alpha", [.delta]), (auxiliaryHidden != nil, "--auxiliary-hidden", [.delta]),
         (beta1 != nil, "--beta1", [.hierarchical]), (beta2 != nil, "--beta2", [.hierarchical]),
         (activation != nil, "--activation", [.alemi, .echo]), (symmetricInputs, "--symmetric-inputs", [.alemi, .echo]),
         (decoder != nil, "--decoder", [.alemi, .echo]), (pixelcnnFeatures != nil, "--pixelcnn-features", [.alemi, .echo, .delta]),
         (pixelcnnResnets != nil, "--pixelcnn-resnets", [.alemi, .echo, .delta]), (dataset != nil, "--dataset", images),
         (binarize != nil, "--binarize", images), (batchSize != nil, "--batch-size", images),
         (trainLimit != nil, "--train-limit", images), (testLimit != nil, "--test-limit", images),
         (dataDir != nil, "--data-dir", images), (toyInit != nil, "--toy-init", [.toy])]
    }

    /// Flags that refine an objective, with the flag that chooses it.
    var objectiveDetails: [(given: Bool, flag: String, needs: String, chosen: Bool)] {
        [(targetRateLr != nil, "--target-rate-lr", "--target-rate", targetRate != nil),
         (targetRatePenalty != nil, "--target-rate-penalty", "--target-rate", targetRate != nil),
         (targetRateBound != nil, "--target-rate-bound", "--target-rate", targetRate != nil),
         (gecoLr != nil, "--geco-lr", "--target-distortion", targetDistortion != nil),
         (gecoSmoothing != nil, "--geco-smoothing", "--target-distortion", targetDistortion != nil),
         (freeBitsGroup != nil, "--free-bits-group", "--free-bits", freeBits != nil)]
    }

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch-size must be at least 1 (got \(batch))") }
        guard columns >= 0 else { throw ValidationError("--image-columns must be 0 (no images) or more") }
        if let resume {
            if out != nil { throw ValidationError("--resume continues in its own directory; drop --out") }
            guard !resume.isEmpty else { throw ValidationError("--resume needs a run directory") }
            if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1 (got \(epochs))") }
            if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be at least 1 (got \(maxSteps))") }
            // the data folder is where to find the data, not a setting of the run
            let saved = modelFlags.filter { $0.flag != "--data-dir" }.map { ($0.given, $0.flag) }
                + objectiveDetails.map { ($0.given, $0.flag) }
                + [(model != nil, "--model"), (beta != nil, "--beta"), (klAnnealSteps != 0, "--kl-anneal-steps"),
                   (klWarmupEpochs != nil, "--kl-warmup-epochs"),
                   (targetRate != nil, "--target-rate"), (targetDistortion != nil, "--target-distortion"), (freeBits != nil, "--free-bits"),
                   (lr != nil, "--lr"), (lrSchedule != nil, "--lr-schedule"), (normalizeGradients, "--normalize-gradients"),
                   (seed != nil, "--seed")]
            if let given = saved.first(where: { $0.0 }) {
                throw ValidationError("--resume continues with the run's own settings (its config.json); only --epochs and --max-steps may change, not \(given.1)")
            }
            return
        }
        if let dataset, !DatasetCatalog.names.contains(dataset) {
            throw ValidationError("--dataset '\(dataset)': valid datasets are \(DatasetCatalog.names.joined(separator: ", "))")
        }
        if kind == .delta && delta != nil {
            throw ValidationError("--delta sets the δ channel of --model alemi (--channel delta); the sequence model's committed rate comes from --alpha and --latent-dim (rdlab delta-rate --rows 28 --dims D --rate δ finds the α)")
        }
        if let misplaced = modelFlags.first(where: { $0.given && !$0.models.contains(kind) }) {
            let names = misplaced.models.map(\.rawValue).sorted()
            let list = names.count > 1 ? names.dropLast().joined(separator: ", ") + " or " + names[names.count - 1] : names.joined()
            throw ValidationError("\(misplaced.flag) applies to --model \(list), not \(kind.rawValue)")
        }
        if delta != nil && channel != .delta {
            throw ValidationError("--delta sets the committed rate of --channel delta: add --channel delta (or drop --delta)")
        }
        if let orphan = objectiveDetails.first(where: { $0.given && !$0.chosen }) {
            throw ValidationError("\(orphan.flag) refines \(orphan.needs), which is not given")
        }
        if kind == .echo && (echoTerms ?? batch - 1) < 1 {
            throw ValidationError("--model echo needs at least one noise term: use --batch-size 2 or more, or --echo-terms ≥ 1")
        }
        if targetRate != nil && targetDistortion != nil {
            throw ValidationError("--target-rate and --target-distortion are two objectives: give one")
        }
        if (beta1 != nil || beta2 != nil) && (targetRate != nil || targetDistortion != nil) {
            throw ValidationError("--beta1 and --beta2 weigh the layers' rates; --target-rate and --target-distortion set the weights themselves")
        }
        if klAnnealSteps != 0 && (targetRate != nil || targetDistortion != nil) {
            throw ValidationError("--kl-anneal-steps sets β's schedule; --target-rate and --target-distortion set it themselves")
        }
        guard klAnnealSteps >= 0 else { throw ValidationError("--kl-anneal-steps must be 0 (constant β) or more (got \(klAnnealSteps))") }
        if let problem = settings(resumed: nil).problem() { throw ValidationError("\(problem.setting.flag) \(problem.reason)") }
    }

    /// The model from the flags, each unset one at its default.
    var modelSpec: ModelSpec {
        switch kind {
        case .alemi:
            let d = AlemiSpec()
            return .alemi(AlemiSpec(latentDimension: latentDim ?? d.latentDimension, activation: activation ?? d.activation,
                symmetricInputs: symmetricInputs, encoder: encoder ?? d.encoder, decoder: decoder ?? d.decoder,
                marginal: marginal ?? d.marginal, flowSteps: flowSteps ?? d.flowSteps, madeHidden: madeHidden?.values ?? d.madeHidden,
                vampComponents: vampComponents ?? d.vampComponents, pixelcnnFeatures: pixelcnnFeatures ?? d.pixelcnnFeatures,
                pixelcnnResnets: pixelcnnResnets ?? d.pixelcnnResnets, channel: channel ?? d.channel, delta: delta ?? d.delta))
        case .echo:
            let d = EchoSpec()
            return .echo(EchoSpec(latentDimension: latentDim ?? d.latentDimension, activation: activation ?? d.activation,
                symmetricInputs: symmetricInputs, terms: echoTerms ?? batch - 1, replacement: echoReplacement ?? d.replacement,
                decoder: decoder ?? d.decoder, pixelcnnFeatures: pixelcnnFeatures ?? d.pixelcnnFeatures,
                pixelcnnResnets: pixelcnnResnets ?? d.pixelcnnResnets))
        case .toy:
            return .toy(ToySpec(initialization: toyInit ?? ToySpec().initialization))
        case .hierarchical:
            let d = HierarchicalSpec()
            return .hierarchical(HierarchicalSpec(inference: hierarchy ?? d.inference, channels: channels ?? d.channels,
                topDimension: latentDim ?? d.topDimension))
        case .delta:
            let d = DeltaSpec()
            return .delta(DeltaSpec(rowDimension: latentDim ?? d.rowDimension, alphaLower: alpha?.lower ?? d.alphaLower,
                alphaUpper: alpha?.upper ?? d.alphaUpper, pixelcnnFeatures: pixelcnnFeatures ?? d.pixelcnnFeatures,
                pixelcnnResnets: pixelcnnResnets ?? d.pixelcnnResnets, auxiliaryHidden: auxiliaryHidden ?? d.auxiliaryHidden))
        }
    }

    /// The objective from the flags.
    var objective: ObjectiveSpec {
        let weight: RateWeight
        if let targetRate {
            let d = TargetRate(rate: targetRate)
            weight = .targetRate(TargetRate(rate: targetRate, learningRate: targetRateLr ?? d.learningRate,
                bound: targetRateBound ?? d.bound, initialMultiplier: beta.map(Double.init) ?? d.initialMultiplier,
                penalty: targetRatePenalty ?? d.penalty))
        } else if let targetDistortion {
            let d = GECO(distortion: targetDistortion)
            weight = .geco(GECO(distortion: targetDistortion, learningRate: gecoLr ?? d.learningRate,
                smoothing: gecoSmoothing ?? d.smoothing, initialMultiplier: beta.map { 1 / Double($0) } ?? d.initialMultiplier))
        } else if klAnnealSteps > 0 {
            weight = .annealed(beta: beta ?? 1, steps: klAnnealSteps)
        } else {
            weight = .constant(beta: beta ?? 1)
        }
        var layers: [String: RateWeight] = [:]
        for (layer, layerBeta) in [(HierarchicalSpec.bottomLayer, beta1), (HierarchicalSpec.topLayer, beta2)] {
            guard let layerBeta else { continue }
            layers[layer] = klAnnealSteps > 0 ? .annealed(beta: layerBeta, steps: klAnnealSteps) : .constant(beta: layerBeta)
        }
        // HIT warms the LVAE up over a fifth of the run; 0 epochs is no warm-up (a negative count is kept for problem())
        let warmUp = klWarmupEpochs.map(KLWarmUp.init(epochs:)) ?? (hierarchy == .lvae ? KLWarmUp(runEpochs: epochs ?? 10) : nil)
        return ObjectiveSpec(weight: weight, layers: layers,
            freeBits: freeBits.map { FreeBits(nats: $0, grouping: freeBitsGroup ?? FreeBits(nats: $0).grouping) },
            warmUp: warmUp?.epochs == 0 ? nil : warmUp)
    }

    /// Settings from the flags, or from the resumed run's config (where --epochs/--max-steps may raise the budget).
    func settings(resumed: RunSettings?) -> RunSettings {
        if var saved = resumed {
            if let epochs { saved.epochs = epochs }
            if let maxSteps { saved.maxSteps = maxSteps }
            return saved
        }
        let spec = modelSpec
        let toy = !spec.readsImages
        let name = toy ? ToyDistribution.name : dataset ?? (kind == .hierarchical ? "mnist" : "binarized-mnist")
        let binarization = binarize ?? (kind == .hierarchical ? .threshold : (try? DatasetCatalog.entry(name))?.defaultBinarization ?? .none)
        return RunSettings(dataset: name, binarize: binarization.rawValue, model: spec, objective: objective,
            epochs: epochs ?? (toy ? 20 : 10), maxSteps: maxSteps, trainLimit: trainLimit, testLimit: testLimit,
            batchSize: toy ? ToyDistribution.bins : batch, learningRate: lr ?? (toy ? 0.05 : 3e-4),
            learningRateSchedule: lrSchedule ?? .constant, normalizeGradients: normalizeGradients, seed: seed ?? 0)
    }

    func run() throws {
        let logger = logging.bootstrap()
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .current, formatOptions: [.withFullDate, .withTime])
        let directory = RunDirectory(url: URL(fileURLWithPath: resume ?? out ?? "runs/\(settings(resumed: nil).dataset)-\(stamp)"))
        if resume != nil && !FileManager.default.fileExists(atPath: directory.config.path) {
            throw CleanExit.failure("\(directory.config.path) not found: is \(directory.url.path) an rdlab run directory?")
        }
        let lock = try RunLock(directory: directory.url)
        defer { withExtendedLifetime(lock) {} }
        if let previous = lock.previousHolder {
            logger.notice("\(directory.url.path): taking over the lock of \(previous), which is no longer running")
        }
        let removed = try directory.removeInterruptedWrites()
        if !removed.isEmpty {
            logger.notice("\(directory.url.path): removed \(removed.count) temporary file(s) of an interrupted save (\(removed.joined(separator: ", ")))")
        }
        let resumed = resume == nil ? nil
            : try directory.readConfig(datasets: DatasetCatalog.names, binarizations: Binarization.allCases.map(\.rawValue))
        let hasCheckpoint = FileManager.default.fileExists(atPath: directory.checkpoint.path)
        if resumed != nil && !hasCheckpoint {
            throw CleanExit.failure("\(directory.checkpoint.path) not found: nothing to resume from")
        }
        if resumed == nil && hasCheckpoint {
            throw CleanExit.failure("\(directory.url.path) already holds a run; use --resume \(directory.url.path) or another --out")
        }
        // A new run writes its first checkpoint before its first metrics line, so metrics
        // without a checkpoint are not a run rdlab can continue: they are left alone.
        if resumed == nil, let size = try? FileManager.default.attributesOfItem(atPath: directory.metrics.path)[.size] as? Int, size > 0 {
            throw CleanExit.failure("\(directory.url.path) holds \(directory.metrics.lastPathComponent) but no checkpoint; use another --out (or move those files away)")
        }
        let settings = self.settings(resumed: resumed?.settings)
        if let problem = settings.problem() {  // --epochs or --max-steps raised past their bounds on --resume
            throw ValidationError("\(problem.setting.flag) \(problem.reason)")
        }
        let selection = try self.selection.select(logger: logger)
        let backend = selection.backend
        let data = try Self.data(settings, dataDirectory: dataDir, logger: logger)
        var stepMemoryBytes: Int?
        if let images = data as? ImageRunData {
            stepMemoryBytes = try MemoryCheck.check(settings.model, exampleShape: images.exampleShape,
                batch: min(settings.batchSize, images.trainingExamples), activations: activationMemory, backend: backend,
                logger: logger)
        }
        let device = backend.device
        StopSignal.install()  // before the run writes its config and first checkpoint
        ParentWatch.start()
        let run = try TrainingRun(directory: directory, settings: settings, resumed: resumed, backend: backend, data: data,
            provenance: RunProvenance(backendRequested: selection.requested.description, backendUsed: device.selector,
                device: device.name, driver: device.driverVersion, fallbackReason: selection.fallbackReason,
                rdlabVersion: RDLab.version, rdlabCommit: resumed?.provenance.rdlabCommit ?? currentCommit(),
                started: resumed?.provenance.started ?? ISO8601DateFormatter().string(from: Date()),
                activationMemory: activationMemory, stepMemoryBytes: stepMemoryBytes, stepPlanning: stepPlan),
            logger: logger)
        Self.describe(run, logger: logger)
        let weightName = switch settings.objective.weight {
        case .constant, .annealed: "β"
        case .targetRate: "λ"
        case .geco: "1/λ"
        }
        var progress = Progress(total: run.plannedSteps, alreadyDone: run.trainer.step)
        var hooks = TrainingRun.Hooks()
        hooks.progress = { step, epoch, running in
            progress.update(step: step, epoch: epoch, epochs: settings.epochs, rate: running.rate, distortion: running.distortion)
        }
        hooks.pause = { progress.finishLine() }
        hooks.committed = { epoch, trainLine, testLine in
            try writePictures(run, epoch: epoch, logger: logger)
            let summary = String(format: "epoch %d: train R %.3f D %.3f −ELBO %.3f | test R %.3f D %.3f −ELBO %.3f nats (%@ %.4g, %.0f ex/s)",
                epoch, trainLine.rateNats, trainLine.distortionNats, trainLine.negElboNats, testLine.rateNats,
                testLine.distortionNats, testLine.negElboNats, weightName, trainLine.beta, trainLine.examplesPerSecond)
            logger.info("\(summary)")
            if let floor = trainLine.rateFloorNats, let minimum = trainLine.batchRateMinNats {
                let auxiliary = testLine.rateAuxNats.map { String(format: "; test rate under the auxiliary prior %.3f nats", $0) } ?? ""
                logger.info("\(String(format: "epoch %d: smallest batch rate %.3f nats, floor %.3f%@", epoch, minimum, floor, auxiliary))")
            }
        }
        do {
            try run.run(hooks)
        } catch let interruption as Interrupted {
            throw ExitCode(128 + interruption.signal)
        }
        if let fallback = backend as? OpFallbackBackend {
            for line in fallback.transferSummary { logger.info("op fallback: \(line)") }
        }
        print("run \(directory.url.path): \(run.trainer.step) steps; metrics in \(directory.metrics.path)")
    }

    /// The run's examples: the dataset (limited, binarised) for image models, the exact
    /// distribution for the toy model.
    static func data(_ settings: RunSettings, dataDirectory: String?, logger: Logger) throws -> any RunData {
        guard settings.model.readsImages else {
            let toy = ToyDistribution()
            logger.info("data: \(toy.source), H(x) = \(String(format: "%.6f", toy.entropy)) nats; \(toy.stepsPerEpoch) full-batch steps per epoch")
            return toy
        }
        let locator = DataLocator(dataDirectory: dataDirectory)
        let binarization = try Binarization(named: settings.binarize)
        var train: Dataset, test: Dataset
        do {
            train = try locator.load(settings.dataset, split: "train")
            test = try locator.load(settings.dataset, split: "test")
        } catch let error as DataError {
            throw CleanExit.failure(error.description)
        }
        if let limit = settings.trainLimit { train = train.prefix(limit) }
        if let limit = settings.testLimit { test = test.prefix(limit) }
        logger.info("data: \(settings.dataset) train \(train.count), test \(test.count) from \(train.files[0]) (binarize \(binarization.rawValue))")
        guard train.count > 0, test.count > 0 else {
            let empty = train.count == 0 ? train : test
            throw CleanExit.failure("\(empty.files[0]): the \(empty.split) split holds no examples")
        }
        return ImageRunData(train: train, test: test, binarization: binarization, seed: settings.seed, batchSize: settings.batchSize)
    }

    /// Logs what the run trains.
    static func describe(_ run: TrainingRun, logger: Logger) {
        switch run.settings.model {
        case .alemi(let spec):
            logger.info("model: family \(spec.family) (encoder \(spec.encoder.rawValue), decoder \(spec.decoder.rawValue), marginal \(spec.marginal.rawValue))")
            if let conv = run.model as? ConvAutoencoder, let delta = conv.channel as? DeltaChannel {
                logger.info("\(delta.summary)")
            }
        case .echo(let spec):
            if let conv = run.model as? ConvAutoencoder, let echo = conv.channel as? EchoChannel, let floor = echo.rateFloor {
                logger.info("echo channel: \(spec.terms) terms \(spec.replacement.rawValue) replacement, clip r = \(String(format: "%.6f", echo.clip)), rate floor \(String(format: "%.3f", floor)) nats")
            }
        case .toy:
            logger.info("model: Alemi's toy model, 30 latent states, \(run.model.parameters.reduce(0) { $0 + $1.tensor.count }) parameters")
        case .hierarchical(let spec):
            logger.info("model: HIT \(spec.inference.rawValue.uppercased()), c = \(spec.channels), z2 \(spec.topDimension) dims, z1 4×4×\(spec.channels), \(run.model.parameters.reduce(0) { $0 + $1.tensor.count }) parameters")
        case .delta(let spec):
            logger.info("model: δ-VAE, 28 rows × \(spec.rowDimension) latent dims, AR(1) α \(spec.alphaLower)…\(spec.alphaUpper), committed rate δ = \(String(format: "%.3f", spec.committedRate)) nats (\(String(format: "%.2f", spec.committedRate / log(2))) bits), PixelCNN \(spec.pixelcnnFeatures)×\(spec.pixelcnnResnets), auxiliary LSTM \(spec.auxiliaryHidden == 0 ? "none" : "\(spec.auxiliaryHidden) units"), \(run.model.parameters.reduce(0) { $0 + $1.tensor.count }) parameters")
        }
        logger.info("objective: \(run.settings.objective.summary)")
        if let warmUp = run.settings.objective.warmUp, warmUp.epochs * run.data.stepsPerEpoch >= run.plannedSteps {
            logger.notice("the KL warm-up lasts \(warmUp.epochs) epochs (\(warmUp.epochs * run.data.stepsPerEpoch) steps), beyond this run's \(run.plannedSteps) steps: β never reaches its full value (set --kl-warmup-epochs)")
        }
    }

    /// The pictures of a committed epoch: image grids of an image model, the toy model's
    /// diagnostics.
    func writePictures(_ run: TrainingRun, epoch: Int, logger: Logger) throws {
        if let toy = run.model as? ToyModel {
            try ToyPictures.write(try toy.diagnostics(), to: run.directory)
            return
        }
        if columns > 0, let model = run.model as? DeltaVAE, let data = run.data as? ImageRunData {
            logger.info("epoch \(epoch): drawing the image grids pixel by pixel (784 passes each)")
            let test = data.test
            let shown = min(columns, test.count)
            let display = test.batch((0..<shown).map { $0 * test.count / shown }, binarization: data.binarization,
                seed: run.settings.seed, epoch: 0)
            try ImageGrids.reconstructions(model, images: display, seed: run.settings.seed).write(to: run.directory.reconstructions)
            try ImageGrids.samples(model, count: shown, seed: run.settings.seed).write(to: run.directory.samples)
            return
        }
        if columns > 0, let model = run.model as? HierarchicalVAE, let data = run.data as? ImageRunData {
            let test = data.test
            let shown = min(columns, test.count)
            let display = test.batch((0..<shown).map { $0 * test.count / shown }, binarization: data.binarization,
                seed: run.settings.seed, epoch: 0)
            try ImageGrids.reconstructions(model, images: display).write(to: run.directory.reconstructions)
            try ImageGrids.samples(model, count: shown, seed: run.settings.seed).write(to: run.directory.samples)
            return
        }
        guard columns > 0, let model = run.model as? ConvAutoencoder, let data = run.data as? ImageRunData else { return }
        if model.decoder.isAutoregressive {
            logger.info("epoch \(epoch): drawing the image grids pixel by pixel (784 passes each)")
        }
        let test = data.test
        let shown = min(columns, test.count)
        let spread = (0..<shown).map { $0 * test.count / shown }
        // a batch for the channel (Echo noise comes from the other members)
        let display = test.batch(spread + (0..<min(test.count, max(0, run.settings.batchSize - shown))).map { $0 },
            binarization: data.binarization, seed: run.settings.seed, epoch: 0)
        try ImageGrids.reconstructions(model, batch: display, count: shown, seed: run.settings.seed).write(to: run.directory.reconstructions)
        try ImageGrids.samples(model, pool: display, count: shown, seed: run.settings.seed).write(to: run.directory.samples)
    }
}

extension ObjectiveSpec {
    /// One line for the log.
    var summary: String {
        var text: String
        if layers.isEmpty {
            text = Self.describe(weight, rate: "R")
        } else {
            text = "E[D + Σ_l β_l·R_l]: " + layers.sorted { $0.key < $1.key }.map { "\($0.key): " + Self.describe($0.value, rate: "R_\($0.key)") }
                .joined(separator: "; ") + "; other layers: " + Self.describe(weight, rate: "R")
        }
        if let freeBits { text += "; free bits λ = \(freeBits.nats) nats per \(freeBits.grouping.rawValue)" }
        if let warmUp { text += "; KL warm-up: every β times min(1, epoch/\(warmUp.epochs))" }
        return text
    }

    /// What one weight does to the rate it weighs.
    static func describe(_ weight: RateWeight, rate: String) -> String {
        switch weight {
        case .constant(let beta): "E[D + β·\(rate)], β = \(beta)"
        case .annealed(let beta, let steps): "E[D + β_t·\(rate)], β_t = \(beta)·min(1, t/\(steps))"
        case .targetRate(let target):
            "target rate \(rate) \(target.bound == .equal ? "=" : "≤") \(target.rate) nats by the augmented Lagrangian (λ₀ = \(target.initialMultiplier), η = \(target.learningRate), c = \(target.penalty))"
        case .geco(let geco):
            "GECO, distortion target κ = \(geco.distortion) nats (λ₀ = \(geco.initialMultiplier), η = \(geco.learningRate), α = \(geco.smoothing))"
        }
    }
}
