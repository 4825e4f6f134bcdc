"""Every number that the paper reports, each with its table, figure, section or equation.

Ding, Ma, Wang, *Intrinsic Image Popularity Assessment*, ACM Multimedia 2019. These are the
paper's values on its Instagram data, never ours: the report, the tables, the figures and
``figures/README.md`` read them from here, so each one is typed once.
"""

from __future__ import annotations

# Sec. 3.1: the candidate pool and the PDIP rule's defaults (Eq. 6: P >= T with sigma).
CANDIDATE_POSTS = "2 x 10^8"
CANDIDATE_USERS = "2 x 10^5"
THRESHOLD_T = 0.95
SIGMA = 0.3
VAL_PDIPS = 50_000
TEST_PDIPS = 50_000

# Table 1: statistics of the database, as (attribute, value, the paper's display).
TABLE1 = (
    ("Number of PDIPs", 2.5e6, "2.5 x 10^6"),
    ("Number of users involved", 1.1e5, "1.1 x 10^5"),
    ("Average likes per image", 5.3e3, "5.3 x 10^3"),
    ("Average P(Q_A >= Q_B given S_A, S_B)", 0.978, "0.978"),
    ("Average upload time interval (days)", 4.8, "4.8"),
    ("Proportion of no hashtag (%)", 45.6, "45.6"),
    ("Proportion of no @ sign (%)", 47.9, "47.9"),
    ("Proportion of no caption (%)", 11.1, "11.1"),
    ("Average length of descriptive text (words)", 2.1, "2.1"),
)
N_PDIPS = "2.5 x 10^6"
MEAN_P = 0.978

# Fig. 4: pairwise accuracy (%) on the 50,000 test PDIPs (human: majority vote, 1,000 pairs).
RANDOM = 50.0
VIRALITY_DETECTION = 53.21
KHOSLA14 = 54.39
HESSEL17 = 65.54
LIKELYAI = 68.87
HUMAN_MAJORITY = 72.40
OURS = 76.65  # ImageNet-pretrained ResNet-50
FIG4 = (("Virality Detection", VIRALITY_DETECTION), ("Khosla14", KHOSLA14),
        ("Hessel17", HESSEL17), ("LikelyAI", LIKELYAI), ("Human majority", HUMAN_MAJORITY),
        ("Ours (paper, ResNet-50)", OURS))

# Table 2: accuracy (%) with a share of the training labels flipped at random.
TABLE2_NOISE = {0.0: 76.65, 0.1: 75.61, 0.2: 74.35, 0.3: 73.10, 0.4: 68.55}

# Table 3: accuracy (%) per ImageNet-pretrained backbone.
TABLE3_BACKBONE = {"alexnet": 73.22, "vgg16": 76.15, "resnet50": 76.65, "resnet101": 76.87}

# Table 4 and Sec. 4.4: the psychophysical experiment, accuracy (%) mean and std by group.
HUMAN_PAIRS = 1000
HUMAN_SUBJECTS = 30
TABLE4 = {"Majority": (72.4, None), "Single": (66.6, 4.4), "Female": (67.0, 4.2),
          "Male": (66.8, 4.5), "Instagram users": (68.5, 3.7), "little Instagram": (65.1, 4.5),
          "> 3 h/day": (67.1, 3.8), "< 3 h/day": (66.4, 4.1)}

# The absolute-popularity ablation: an image score + 6 non-visual features into an MLP.
MLP_ACCURACY = 66.5
MLP_PEARSON_TRAIN = 0.83
MLP_PEARSON_TEST = 0.80

# Generalisation (Sec. 4.3): accuracy (%) of the Instagram model elsewhere, and the baseline
# the paper quotes beside it.
REDDIT = 58.9
REDDIT_HESSEL17 = 60.0
FLICKR = 63.3
FLICKR_KHOSLA14 = 62.4

# Fig. 5: the Gaussian fitted to the authors' model's scores on the test set.
FIG5_MEAN = 2.96
FIG5_STD = 1.55


def pct(value: float, digits: int = 2) -> str:
    """``76.65 %``: a paper accuracy as the tables print it."""
    return f"{value:.{digits}f} %"
