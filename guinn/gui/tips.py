"""Tooltips: one sentence per control on what it does to learning, in a student's-notes voice."""


def count(n: int, noun: str, plural: str | None = None) -> str:
    """'1 epoch', '3 epochs', '1,000 batches': status text that reads right for any n."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


TIPS = {
    "dataset": (
        "What the network learns from. MNIST: 28x28 handwritten digits, 784 inputs, 10 "
        "classes. The 2-D toy sets train in seconds and show how depth and activation bend a "
        "decision boundary."
    ),
    "samples": (
        "How many training examples to load. Fewer makes epochs faster but the network sees "
        "less variety, so it overfits sooner."
    ),
    "csv": (
        "Load a table of numbers from a CSV file; one column holds the class label. Features "
        "are standardised (zero mean, unit variance) using the training rows only."
    ),
    "layerStack": (
        "The hidden layers, input at the top and output at the bottom. Drag to reorder; each "
        "layer feeds the next. More layers can represent more, but gradients must travel "
        "further back through them."
    ),
    "add": (
        "Add a hidden layer after the selected one, with its size and activation (no dropout "
        "or penalties). Every unit is connected to every unit of the layer before it."
    ),
    "duplicate": "Copy the selected layer with all its settings, to deepen the network quickly.",
    "remove": "Remove the selected hidden layer (the output layer always stays).",
    "up": "Move the selected layer one step closer to the input.",
    "down": "Move the selected layer one step closer to the output.",
    "units": (
        "Number of neurons in this layer. More units fit more complex functions but cost more"
        " weights, time and risk of overfitting."
    ),
    "activation": (
        "The non-linearity after the weighted sum. Without one, stacked layers collapse into "
        "a single linear map."
    ),
    "alpha": (
        "Leaky ReLU slope for negative inputs: a small slope keeps a gradient flowing so "
        "units cannot die, unlike plain ReLU."
    ),
    "pieces": (
        "Maxout pieces per unit: each unit outputs the maximum of this many linear functions,"
        " a learned activation that costs this many times the weights."
    ),
    "dropout": (
        "Each training step, every output of this layer is zeroed with this probability (and "
        "the survivors scaled up by 1/(1-rate)), so units cannot rely on each other; at test "
        "time and on the Draw tab nothing is dropped and nothing rescaled."
    ),
    "l1": (
        "L1 penalty: adds l1 x sum(|w|) of this layer's weights to the loss. Every weight "
        "feels the same pull towards zero however small it is, so unhelpful weights end up "
        "at or hovering near zero (a sparse network)."
    ),
    "l2": (
        "L2 penalty: adds l2 x sum(w^2) of this layer's weights to the loss. The pull towards "
        "zero grows with the weight (gradient 2 x l2 x w), so big weights shrink most but few "
        "reach zero; with SGD this is weight decay. Smoother functions, less overfitting."
    ),
    "input": (
        "The input layer just passes the data in: its size is set by the dataset (one input "
        "per feature or pixel)."
    ),
    "output": (
        "The output layer: one softmax unit per class, turning scores into probabilities that"
        " sum to 1. Its size follows the labels, so it cannot be edited."
    ),
    "params": (
        "Trainable numbers (weights, biases and Parametric ReLU slopes). Every training step "
        "adjusts all of them."
    ),
    "loss": (
        "What training minimises. Cross-entropy punishes confident wrong answers hard and "
        "pairs with softmax to give clean gradients; mean squared error learns slower on "
        "classification."
    ),
    "optimizer": (
        "How gradients become weight changes. SGD takes plain steps; momentum remembers past "
        "steps; Adagrad/RMSprop scale each weight's step by its gradient history; Adam does "
        "both."
    ),
    "learning_rate": (
        "Step size. Too small and learning crawls; too large and the loss jumps around or "
        "diverges to NaN."
    ),
    "momentum": (
        "SGD momentum: keeps a decaying sum of past gradients, so steps build up speed along "
        "consistent directions and cancel when the gradient zig-zags."
    ),
    "nesterov": (
        "Nesterov momentum looks ahead along the momentum before taking the gradient step, "
        "which damps overshooting."
    ),
    "rho": (
        "RMSprop decay: how much of the running average of squared gradients is kept each "
        "step; closer to 1 means a longer memory."
    ),
    "beta_1": (
        "Adam's momentum decay: how long the running mean of gradients remembers (0.9 is "
        "about the last 10 steps)."
    ),
    "beta_2": (
        "Adam's decay for the running mean of squared gradients, which scales each weight's "
        "step; 0.999 is a long memory."
    ),
    "epsilon": (
        "A small number added to the denominator of each step (Adam: to the root of the "
        "squared-gradient average; RMSprop and Adagrad: under the root), so steps stay finite "
        "when a weight's gradients have been near zero. Larger values cap the steps."
    ),
    "batch_size": (
        "Examples per weight update. Small batches give noisy but frequent steps; large "
        "batches give smooth, fewer, costlier steps."
    ),
    "epochs": (
        "How many passes over the training set each Start runs. Each epoch shows every "
        "training example once, in a new random order."
    ),
    "validation_split": (
        "Fraction of the training data held out (the last part, before shuffling) to measure "
        "how well the network generalises; it is never trained on."
    ),
    "early_stopping": (
        "Stop training once the monitored metric has gone 'patience' epochs in a row without "
        "improving, to catch the point where the network starts to overfit."
    ),
    "monitor": (
        "Which metric early stopping watches; validation loss is the usual sign of "
        "overfitting. The val_ metrics need a validation split above 0."
    ),
    "patience": (
        "Early stopping stops after this many epochs in a row without improvement (0 acts "
        "like 1: stop at the first epoch that does not improve)."
    ),
    "restore_best": (
        "When training ends (early stopping, the last epoch or Stop), put back the weights "
        "from the epoch with the best monitored value rather than the last."
    ),
    "augment": (
        "Show every training image with a small random move and resize, new each time it is "
        "seen. MNIST digits are all centred and sized alike; yours on the Draw tab never sit "
        "exactly like that, so a network trained this way reads hand-drawn digits better "
        "(and overfits later). Epochs take a little longer."
    ),
    "augment_off": (
        "Augmentation needs images (MNIST or IDX files); this dataset has none, so it is off."
    ),
    "max_shift": (
        "Largest random move of each training image, in pixels, drawn separately up/down and "
        "left/right. 1-3 px covers how far a drawn digit lands off-centre; much more pushes "
        "strokes off the edge of the image."
    ),
    "max_scale": (
        "Largest random resize of each training image around its centre: 0.1 means anywhere "
        "from 10% smaller to 10% bigger, like digits drawn a little large or small."
    ),
    "initializer": (
        "How weights start. Glorot scales them to the layer sizes so signals neither vanish "
        "nor explode at the start (He for ReLU); all-equal weights would make units "
        "identical."
    ),
    "seed": (
        "The random seed for initial weights, shuffling, dropout and augmentation: the same "
        "seed gives the same run."
    ),
    "start": "Train fresh weights for the set number of epochs.",
    "start_continue": (
        "Train these weights for the set number of epochs more: the curves go on where they stopped. "
        "Reset weights starts afresh; a preset, another network or other data start afresh too."
    ),
    "pause": "Pause training after the current batch, to look at the plots; press again to resume.",
    "step": "Run exactly one batch (one weight update) and pause, to watch a single step.",
    "stop": (
        "Stop after the current batch. The weights learned so far are kept (or the best "
        "epoch's, if early stopping restores them)."
    ),
    "reset": "Re-initialise all weights from the seed, forgetting what was learned.",
    "progress": "Epoch and batch of the running training, with an estimate of the time left.",
    "lossPlot": (
        "Loss per batch (thin), its running mean (thick) and per epoch on training and "
        "validation data, L1/L2 penalties included. A widening gap between training and "
        "validation means overfitting."
    ),
    "accuracyPlot": "Fraction of examples classified correctly, per batch and per epoch.",
    "gradientPlot": (
        "RMS of each layer's weight gradient over time, log scale. When early layers sit "
        "orders of magnitude below later ones, gradients are vanishing and those layers "
        "barely learn."
    ),
    "gradientBars": (
        "Gradient RMS of each layer now, input on the left, output on the right: the "
        "vanishing-gradient picture."
    ),
    "weightPlot": (
        "RMS of each layer's weights: growing weights can mean too little regularisation."
    ),
    "spreadPlot": (
        "How each layer's weights are spread: the share of them in each narrow range of values, "
        "now. An L1 penalty piles many up at (almost) exactly zero, which the RMS above cannot "
        "show; L2 makes them small but rarely zero. The legend gives each layer's share within "
        "0.001 of zero. The axis spans the hidden layers' weights (all but 1 in 1,000): the output "
        "layer's largest may lie beyond it."
    ),
    "ratioPlot": (
        "Size of each step relative to the weights; around 1e-3 is healthy, far below means "
        "the layer is not learning, far above means it is thrashing."
    ),
    "datasetScatter": (
        "The training points, coloured by class. Once the network has weights, the plane behind "
        "them is shaded by the class it predicts there (paler where it is unsure): its decision "
        "boundary, redrawn as it trains."
    ),
    "saturationPlot": (
        "Share of this batch's activations sitting where the slope is flat: sigmoid below 0.02 "
        "or above 0.98, tanh beyond +-0.98, ReLU and Leaky ReLU at or below 0. They pass back "
        "almost no gradient (Leaky: only their small slope). For ReLU about half is normal: a "
        "unit is only dead if it is at 0 for every input. For Parametric ReLU it is the share "
        "on the learned-slope side; Maxout and linear layers have none."
    ),
}
