#!/usr/bin/env python3
"""Tiny CaR IQS (COMET `InstructionMetric`) checkpoint + golden (docs/methods.md §1.3).

Reproduces the on-disk layout of CaR's IQS checkpoint
(`lightning_logs/instruction_score/{hparams.yaml, checkpoints/*.ckpt}`) at toy size:

  tests/golden/tiny/iqs/hparams.yaml              COMET hparams (class_identifier instruction_metric)
  tests/golden/tiny/iqs/checkpoints/model.ckpt    torch.save of a Lightning-style dict whose
                                                  "state_dict" uses COMET 2.0.2 module names
  tests/golden/tiny/iqs/encoder/                  the XLM-R "pretrained_model" files: config.json
                                                  (tiny XLMRobertaConfig), tokenizer.json (Unigram,
                                                  XLM-R layout), sentencepiece.bpe.model, ...
  tests/golden/tiny/iqs_golden.json               scores for ~30 real Alpaca records

The COMET modules used to build the state_dict and the reference forward are the
real ones from the unbabel-comet 2.0.2 wheel (comet/encoders/xlmr.py,
comet/modules/{layerwise_attention,feedforward}.py, comet/models/pooling_utils.py),
loaded by file path so that pytorch-lightning is not needed.  Set COMET_SRC to an
unpacked wheel directory, or the script runs `pip download unbabel-comet==2.0.2
--no-deps` itself.  `entmax` (the sparsemax COMET imports) must be installed.

Two further independent implementations check the scores: (1) HF XLMRobertaModel +
a hand-written sparsemax + pooling + head, per record without padding; (2) a pure
numpy forward of the whole model straight from the checkpoint tensors.

Run: /work/main/.venv-ref/bin/python tests/golden/tiny/gen_tiny_iqs.py
"""
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import types
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch
import yaml
from scipy.special import erf

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors  # noqa: E402
import transformers  # noqa: E402
from transformers import XLMRobertaConfig, XLMRobertaModel  # noqa: E402

OUT = C.HERE / "iqs"
ENC_DIR = OUT / "encoder"
CKPT = OUT / "checkpoints" / "model.ckpt"
GOLDEN = C.HERE / "iqs_golden.json"
SPM_VOCAB = 1000
NUM_HIDDEN_LAYERS = 4          # -> num_layers = 5 mixed hidden states
HIDDEN = 32
MAX_POS_EMB = 514
MAX_POSITIONS = MAX_POS_EMB - 2          # COMET encoder.max_positions
TRUNC = MAX_POSITIONS - 2                # tokenizer max_length = 510
HIDDEN_SIZES = [64, 32]                  # [2048, 1024] scaled like 1024 -> 32
# Non-trivial layer-mix parameters: sparsemax keeps 3 of the 5 layers.
SCALAR_WEIGHTS = [0.31, -0.72, 0.55, 0.08, 0.47]
GAMMA = 1.37
SEED = 0
INIT_RANGE = 0.2                         # larger than 0.02 so pooled embeddings differ clearly
ESTIMATOR_GAIN = 4.0                     # estimator.ff.0.weight *= 4: wider score spread across records
# state_dict order of XLMRobertaEmbeddings under transformers 4.x (what CaR trained with)
EMB_ORDER_4X = ["position_ids", "word_embeddings.weight", "position_embeddings.weight",
                "token_type_embeddings.weight", "LayerNorm.weight", "LayerNorm.bias"]

IQS_PICKS = [("car_selected_1013.json", i) for i in
             [809, 184, 109, 934, 998, 2, 212, 23, 19, 426, 794, 858, 0, 1, 3, 4, 12, 13, 38, 100,
              200, 300, 400, 500, 600, 700, 172, 611, 315, 521, 351]] + \
            [("cherry_ifd_top6pct_3111.json", 3005), ("cherry_ifd_top6pct_3111.json", 1910),
             ("cherry_ifd_top6pct_3111.json", 557)]


# ------------------------------------------------------------------ COMET source
def comet_src():
    d = os.environ.get("COMET_SRC")
    if d:
        return Path(d)
    d = Path(tempfile.gettempdir()) / "gleaner-unbabel-comet-2.0.2"
    if not (d / "comet" / "modules" / "layerwise_attention.py").exists():
        d.mkdir(parents=True, exist_ok=True)
        subprocess.check_call([sys.executable, "-m", "pip", "download", "unbabel-comet==2.0.2", "--no-deps",
                               "-q", "-d", str(d)])
        whl = next(d.glob("unbabel_comet-2.0.2-*.whl"))
        with zipfile.ZipFile(whl) as z:
            z.extractall(d)
    return d


def load_comet_modules(src):
    """Import the needed COMET 2.0.2 files without running comet/__init__.py
    (which pulls in pytorch-lightning)."""
    if not hasattr(transformers, "XLMRobertaTokenizerFast"):
        # transformers 5 merged the fast class into XLMRobertaTokenizer (tokenizers backend)
        transformers.XLMRobertaTokenizerFast = transformers.XLMRobertaTokenizer
    for name in ["comet", "comet.encoders", "comet.modules", "comet.models"]:
        m = types.ModuleType(name)
        m.__path__ = [str(src / Path(*name.split(".")))]
        sys.modules[name] = m

    def load(name):
        spec = importlib.util.spec_from_file_location(name, src / (name.replace(".", "/") + ".py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        return mod

    load("comet.encoders.base")
    load("comet.encoders.bert")
    xlmr = load("comet.encoders.xlmr")
    ff = load("comet.modules.feedforward")
    la = load("comet.modules.layerwise_attention")
    pu = load("comet.models.pooling_utils")
    return xlmr.XLMREncoder, la.LayerwiseAttention, ff.FeedForward, pu.average_pooling


# ------------------------------------------------------------------ tokenizer
def train_spm(prefix):
    lines = []
    for t in C.all_alpaca_texts():
        lines.extend(ln for ln in t.split("\n") if ln.strip())
    import csv
    with open(C.DATA / "expert-revised" / "APE_score_train.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            lines.extend(ln for ln in row["src"].split("\n") if ln.strip())
    # XLM-R's sentencepiece.bpe.model is a Unigram model with nmt_nfkc normalisation
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_prefix=str(prefix), model_type="unigram", vocab_size=SPM_VOCAB,
        character_coverage=0.9995, normalization_rule_name="nmt_nfkc", add_dummy_prefix=True,
        remove_extra_whitespaces=True, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, input_sentence_size=0,
        shuffle_input_sentence=False, num_threads=2, max_sentence_length=16384, minloglevel=2,
    )


def build_xlmr_tokenizer(model_file):
    from sentencepiece import sentencepiece_model_pb2 as pb
    m = pb.ModelProto()
    m.ParseFromString(open(model_file, "rb").read())
    charsmap = m.normalizer_spec.precompiled_charsmap
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [(p.piece, p.score) for p in m.pieces[3:]]
    vocab += [("<mask>", 0.0)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Precompiled(charsmap)
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                 pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.add_special_tokens([AddedToken("<s>", special=True), AddedToken("<pad>", special=True),
                            AddedToken("</s>", special=True), AddedToken("<unk>", special=True),
                            AddedToken("<mask>", special=True, lstrip=True)])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    return tok


def spm_to_hf_ids(spm_ids):
    # fairseq mapping used by XLMRobertaTokenizer (slow): <s>=0 <pad>=1 </s>=2 <unk>=3, piece p -> p + 1
    special = {0: 3, 1: 0, 2: 2}
    return [special.get(i, i + 1) for i in spm_ids]


# ------------------------------------------------------------------ maths
def sparsemax(z):
    """Sparsemax (Martins & Astudillo 2016) over a 1-D tensor, float32."""
    zs, _ = torch.sort(z, descending=True)
    cs = torch.cumsum(zs, 0)
    k = torch.arange(1, z.numel() + 1, dtype=z.dtype)
    support = 1 + k * zs > cs
    kz = int(support.nonzero().max()) + 1
    tau = (cs[kz - 1] - 1) / kz
    return torch.clamp(z - tau, min=0)


def sparsemax_f64(z):
    z = np.asarray(z, dtype=np.float64)
    zs = np.sort(z)[::-1]
    cs = np.cumsum(zs)
    k = np.arange(1, len(z) + 1)
    kz = k[1 + k * zs > cs].max()
    tau = (cs[kz - 1] - 1) / kz
    return np.maximum(z - tau, 0.0)


def numpy_forward(sd, cfg, ids):
    """Pure numpy (float64) forward of the whole IQS model for one unpadded sequence."""
    g = lambda k: sd[k].detach().cpu().numpy().astype(np.float64)  # noqa: E731
    p = "encoder.model."
    eps = cfg.layer_norm_eps

    def ln(x, w, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * w + b

    ids = np.asarray(ids)
    pad = cfg.pad_token_id
    mask = (ids != pad).astype(np.int64)
    pos = np.cumsum(mask) * mask + pad   # RoBERTa create_position_ids_from_input_ids
    x = g(p + "embeddings.word_embeddings.weight")[ids] + g(p + "embeddings.position_embeddings.weight")[pos] \
        + g(p + "embeddings.token_type_embeddings.weight")[0]
    x = ln(x, g(p + "embeddings.LayerNorm.weight"), g(p + "embeddings.LayerNorm.bias"))
    hs = [x]
    H, nh = cfg.hidden_size, cfg.num_attention_heads
    hd = H // nh
    for i in range(cfg.num_hidden_layers):
        q = p + f"encoder.layer.{i}."
        lin = lambda v, n: v @ g(q + n + ".weight").T + g(q + n + ".bias")  # noqa: E731
        Q = lin(x, "attention.self.query").reshape(-1, nh, hd).transpose(1, 0, 2)
        K = lin(x, "attention.self.key").reshape(-1, nh, hd).transpose(1, 0, 2)
        Vv = lin(x, "attention.self.value").reshape(-1, nh, hd).transpose(1, 0, 2)
        s = Q @ K.transpose(0, 2, 1) / math.sqrt(hd)
        s = s - s.max(-1, keepdims=True)
        a = np.exp(s)
        a = a / a.sum(-1, keepdims=True)
        ctx = (a @ Vv).transpose(1, 0, 2).reshape(-1, H)
        x = ln(lin(ctx, "attention.output.dense") + x, g(q + "attention.output.LayerNorm.weight"),
               g(q + "attention.output.LayerNorm.bias"))
        h = lin(x, "intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))  # exact GELU ("gelu")
        x = ln(lin(h, "output.dense") + x, g(q + "output.LayerNorm.weight"), g(q + "output.LayerNorm.bias"))
        hs.append(x)
    w = sparsemax_f64([float(sd[f"layerwise_attention.scalar_parameters.{k}"][0]) for k in range(len(hs))])
    gamma = float(sd["layerwise_attention.gamma"][0])
    mixed = gamma * sum(wk * hk for wk, hk in zip(w, hs))
    emb = (mixed * (ids != pad)[:, None]).sum(0) / mask.sum()
    y = np.tanh(emb @ g("estimator.ff.0.weight").T + g("estimator.ff.0.bias"))
    y = np.tanh(y @ g("estimator.ff.3.weight").T + g("estimator.ff.3.bias"))
    y = y @ g("estimator.ff.6.weight").T + g("estimator.ff.6.bias")
    return float(y[0]), emb


class IQSModel(torch.nn.Module):
    """The attribute layout of COMET's CometModel/InstructionMetric: encoder,
    layerwise_attention, estimator (state_dict names follow from it)."""

    def __init__(self, XLMREncoder, LayerwiseAttention, FeedForward, pretrained_model, hp):
        super().__init__()
        self.encoder = XLMREncoder.from_pretrained(pretrained_model, load_pretrained_weights=False)
        self.layerwise_attention = LayerwiseAttention(
            layer_transformation=hp["layer_transformation"], num_layers=self.encoder.num_layers,
            dropout=hp["dropout"], layer_norm=hp["layer_norm"])
        self.estimator = FeedForward(in_dim=self.encoder.output_units * 1, hidden_sizes=hp["hidden_sizes"],
                                     activations=hp["activations"], dropout=hp["dropout"],
                                     final_activation=hp["final_activation"], out_dim=1)


def comet_encoder_forward(model, input_ids, attention_mask):
    """COMET XLMREncoder.forward; falls back to an equivalent call when the
    installed transformers returns a 2-tuple for return_dict=False (v5 drops the
    None pooler output), which the 2.0.2 code cannot unpack."""
    try:
        return model.encoder(input_ids, attention_mask)
    except ValueError:
        out = model.encoder.model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        return {"sentemb": out.last_hidden_state[:, 0, :], "wordemb": out.last_hidden_state,
                "all_layers": out.hidden_states, "attention_mask": attention_mask}


def comet_sentence_embedding(model, average_pooling, pad_id, input_ids, attention_mask):
    """CometModel.compute_sentence_embedding for layer=mix, pool=avg."""
    enc = comet_encoder_forward(model, input_ids, attention_mask)
    embeddings = model.layerwise_attention(enc["all_layers"], attention_mask)
    return average_pooling(input_ids, embeddings, attention_mask, pad_id)


def main():
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    src = comet_src()
    XLMREncoder, LayerwiseAttention, FeedForward, average_pooling = load_comet_modules(src)
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "checkpoints").mkdir(parents=True)
    ENC_DIR.mkdir(parents=True)

    # ---------------- tokenizer
    print("training SentencePiece Unigram ...", file=sys.stderr)
    with tempfile.TemporaryDirectory() as td:
        train_spm(Path(td) / "sp")
        shutil.copy(Path(td) / "sp.model", ENC_DIR / "sentencepiece.bpe.model")
    tok = build_xlmr_tokenizer(ENC_DIR / "sentencepiece.bpe.model")
    V = tok.get_vocab_size(with_added_tokens=True)
    assert V == SPM_VOCAB + 2
    tok.save(str(ENC_DIR / "tokenizer.json"))
    hf_tok = transformers.PreTrainedTokenizerFast(
        tokenizer_file=str(ENC_DIR / "tokenizer.json"), bos_token="<s>", eos_token="</s>", sep_token="</s>",
        cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>", model_max_length=MAX_POSITIONS)
    hf_tok.save_pretrained(str(ENC_DIR))
    tcfg = json.load(open(ENC_DIR / "tokenizer_config.json"))
    tcfg["tokenizer_class"] = "XLMRobertaTokenizer"
    json.dump(tcfg, open(ENC_DIR / "tokenizer_config.json", "w"), indent=2, ensure_ascii=False)
    tok.save(str(ENC_DIR / "tokenizer.json"))

    # ---------------- encoder config
    cfg = XLMRobertaConfig(vocab_size=V, hidden_size=HIDDEN, num_hidden_layers=NUM_HIDDEN_LAYERS,
                           num_attention_heads=2, intermediate_size=64, max_position_embeddings=MAX_POS_EMB,
                           type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                           layer_norm_eps=1e-5, hidden_act="gelu", initializer_range=INIT_RANGE,
                           hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    cfg.architectures = ["XLMRobertaForMaskedLM"]
    cfg.save_pretrained(str(ENC_DIR))

    hp = OrderedDict([
        ("activations", "Tanh"), ("batch_size", 8), ("class_identifier", "instruction_metric"), ("dropout", 0.1),
        ("encoder_learning_rate", 1.0e-06), ("encoder_model", "XLM-RoBERTa"), ("final_activation", None),
        ("hidden_sizes", HIDDEN_SIZES), ("keep_embeddings_frozen", True), ("layer", "mix"), ("layer_norm", False),
        ("layer_transformation", "sparsemax"), ("layerwise_decay", 0.95), ("learning_rate", 1.5e-05),
        ("load_pretrained_weights", True), ("loss", "mse"), ("nr_frozen_epochs", 0.3), ("optimizer", "AdamW"),
        ("pool", "avg"), ("pretrained_model", "encoder"), ("train_data", ["data/APE_score_train.csv"]),
        ("validation_data", ["data/APE_score_valid.csv"]), ("warmup_steps", 0),
    ])

    # ---------------- model with the real COMET modules
    torch.manual_seed(SEED)
    model = IQSModel(XLMREncoder, LayerwiseAttention, FeedForward, str(ENC_DIR), hp)
    with torch.no_grad():
        for k, v in enumerate(SCALAR_WEIGHTS):
            model.layerwise_attention.scalar_parameters[k].fill_(v)
        model.layerwise_attention.gamma.fill_(GAMMA)
        model.estimator.ff[0].weight.mul_(ESTIMATOR_GAIN)
    model.eval()
    sd = model.state_dict()
    # transformers < 4.31 (what CaR trained with) kept embeddings.position_ids as a
    # persistent buffer, so real COMET checkpoints carry it; reproduce that.
    pos_key = "encoder.model.embeddings.position_ids"
    emb_prefix = "encoder.model.embeddings."
    emb = {k[len(emb_prefix):]: v for k, v in sd.items() if k.startswith(emb_prefix)}
    emb.setdefault("position_ids", torch.arange(MAX_POS_EMB).expand((1, -1)))
    assert set(emb) == set(EMB_ORDER_4X), sorted(emb)
    new_sd = OrderedDict((emb_prefix + k, emb[k]) for k in EMB_ORDER_4X)
    for k, v in sd.items():
        if not k.startswith(emb_prefix):
            new_sd[k] = v
    sd = new_sd
    ckpt = {
        "epoch": 3, "global_step": 1016, "pytorch-lightning_version": "1.9.5",
        "state_dict": sd,
        "loops": {"fit_loop": {"state_dict": {}, "epoch_loop.state_dict": {"_batches_that_stepped": 1016},
                               "epoch_progress": {"total": {"ready": 4, "started": 4, "processed": 4, "completed": 3},
                                                  "current": {"ready": 4, "started": 4, "processed": 4, "completed": 3}}}},
        "callbacks": {
            "EarlyStopping{'monitor': 'val_kendall', 'mode': 'max'}": {
                "wait_count": 0, "stopped_epoch": 0, "best_score": torch.tensor(0.6, dtype=torch.float64), "patience": 2},
            "ModelCheckpoint{'monitor': 'val_kendall', 'mode': 'max', 'every_n_train_steps': 0, 'every_n_epochs': 1, 'train_time_interval': None}": {
                "monitor": "val_kendall", "best_model_score": torch.tensor(0.6, dtype=torch.float64),
                "best_model_path": "lightning_logs/instruction_score/checkpoints/epoch=3-step=1016-val_kendall=0.600.ckpt",
                "current_score": torch.tensor(0.6, dtype=torch.float64), "dirpath": "lightning_logs/instruction_score/checkpoints",
                "best_k_models": {}, "kth_best_model_path": "", "kth_value": torch.tensor(float("-inf")),
                "last_model_path": ""}},
        "hparams_name": "kwargs",
        "hyper_parameters": dict(hp),
    }
    torch.save(ckpt, CKPT)
    with open(OUT / "hparams.yaml", "w") as f:
        yaml.dump(dict(hp), f)  # sorted keys, as Lightning's save_hparams_to_yaml

    # ---------------- reload everything from disk
    hp2 = yaml.load(open(OUT / "hparams.yaml"), Loader=yaml.FullLoader)
    assert hp2["class_identifier"] == "instruction_metric"
    torch.manual_seed(123)
    model = IQSModel(XLMREncoder, LayerwiseAttention, FeedForward, str(ENC_DIR), hp2)
    ck = torch.load(CKPT, map_location="cpu", weights_only=False)
    missing, unexpected = model.load_state_dict(ck["state_dict"], strict=False)
    assert not missing, missing
    assert set(unexpected) <= {pos_key}, unexpected
    model.eval()
    sd = ck["state_dict"]
    pad_id = model.encoder.tokenizer.pad_token_id
    assert pad_id == 1
    tok = Tokenizer.from_file(str(ENC_DIR / "tokenizer.json"))
    sp = spm.SentencePieceProcessor(model_file=str(ENC_DIR / "sentencepiece.bpe.model"))

    # ---------------- sparsemax: mine vs entmax (what COMET uses) vs float64
    w = torch.cat([p for p in model.layerwise_attention.scalar_parameters]).detach()
    from entmax import sparsemax as entmax_sparsemax
    w_entmax = entmax_sparsemax(w, dim=0)
    w_mine = sparsemax(w)
    w64 = sparsemax_f64(w.numpy())
    assert torch.allclose(w_entmax, w_mine, atol=1e-7), (w_entmax, w_mine)
    assert np.allclose(w64, w_mine.numpy(), atol=1e-6)
    assert (w64 > 0).sum() == 3 and abs(w64.sum() - 1) < 1e-12
    print(f"sparsemax weights {w64.tolist()}", file=sys.stderr)

    # ---------------- records and tokenisation
    recs = []
    cache = {}
    for fname, i in IQS_PICKS:
        cache.setdefault(fname, C.load_json(fname))
        r = cache[fname][i]
        src_text = "Instruction: " + r["instruction"] + " Input: " + r["input"] + " Response: " + r["output"]
        recs.append({"source": f"{fname}[{i}]", "instruction": r["instruction"], "input": r["input"],
                     "output": r["output"], "src": src_text,
                     "released_car_score": r.get("score")})
    texts = [r["src"] for r in recs]
    enc_tok = model.encoder.tokenizer  # what COMET's XLMREncoder loaded
    batch = enc_tok(texts, return_tensors="pt", padding=True, truncation=True, max_length=TRUNC)
    spm_diff = []
    for k, r in enumerate(recs):
        full = tok.encode(r["src"]).ids
        ids = full if len(full) <= TRUNC else full[:TRUNC - 1] + [2]
        L = int(batch["attention_mask"][k].sum())
        assert batch["input_ids"][k, :L].tolist() == ids, r["source"]
        assert all(v == pad_id for v in batch["input_ids"][k, L:].tolist())
        sp_ids = [0] + spm_to_hf_ids(sp.encode(r["src"])) + [2]
        if sp_ids != full:
            spm_diff.append(r["source"])
        r["ids"] = ids
        r["n_tokens"] = len(ids)
        r["n_tokens_untruncated"] = len(full)
        r["truncated"] = len(full) > TRUNC

    # ---------------- scores: real COMET modules on the padded batch
    with torch.no_grad():
        emb_b = comet_sentence_embedding(model, average_pooling, pad_id, batch["input_ids"], batch["attention_mask"])
        score_b = model.estimator(emb_b).view(-1)
    # independent: HF model + my sparsemax/pooling/head, one record at a time, no padding
    enc = model.encoder.model
    lin = [model.estimator.ff[i] for i in (0, 3, 6)]
    gamma = model.layerwise_attention.gamma.detach()
    cases = []
    for k, r in enumerate(recs):
        x = torch.tensor([r["ids"]])
        with torch.no_grad():
            hs = enc(input_ids=x, attention_mask=torch.ones_like(x), output_hidden_states=True).hidden_states
            assert len(hs) == NUM_HIDDEN_LAYERS + 1
            mixed = gamma * sum(wk * hk for wk, hk in zip(w_mine, hs))
            e = mixed[0].mean(0)
            y = torch.tanh(lin[0](e))
            y = torch.tanh(lin[1](y))
            y = lin[2](y)
        s_np, e_np = numpy_forward(sd, cfg, r["ids"])
        sb = float(score_b[k])
        assert abs(sb - float(y)) < 2e-5, (r["source"], sb, float(y))
        assert abs(sb - s_np) < 2e-5, (r["source"], sb, s_np)
        assert np.allclose(emb_b[k].numpy(), e_np, atol=2e-5)
        cases.append({
            "source": r["source"], "instruction": r["instruction"], "input": r["input"], "output": r["output"],
            "src": r["src"], "ids": r["ids"], "n_tokens": r["n_tokens"],
            "n_tokens_untruncated": r["n_tokens_untruncated"], "truncated": r["truncated"],
            "score": sb, "score_unpadded_f32": float(y), "score_numpy_f64": s_np,
            "sentence_embedding": [float(v) for v in emb_b[k]],
            "released_car_score_of_real_model": r["released_car_score"],
        })
        print(f"  {r['source']:40s} n={r['n_tokens']:4d} trunc={r['truncated']!s:5s} score={sb:.6f}", file=sys.stderr)

    scores = np.array([c["score"] for c in cases])
    d_unpadded = max(abs(c["score"] - c["score_unpadded_f32"]) for c in cases)
    d_numpy = max(abs(c["score"] - c["score_numpy_f64"]) for c in cases)
    print(f"max |batch - unpadded| {d_unpadded:.2e}, max |batch - numpy f64| {d_numpy:.2e}", file=sys.stderr)
    print(f"score spread: min {scores.min():.5f} max {scores.max():.5f} std {scores.std():.5f}", file=sys.stderr)

    keys = [{"name": k, "shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", "")} for k, v in sd.items()]
    golden = {
        "description": "CaR IQS (COMET InstructionMetric, SPEC 1.3) on a tiny random XLM-R checkpoint. score = FeedForward(avg_pool(gamma * sum_k sparsemax(w)_k * H_k)), H_0 = embedding output, H_1..H_L = layer outputs.",
        "versions": dict(C.versions(), comet_source="unbabel-comet 2.0.2 wheel (encoders/xlmr.py, modules/layerwise_attention.py, modules/feedforward.py, models/pooling_utils.py)"),
        "checkpoint": "iqs/checkpoints/model.ckpt", "hparams": "iqs/hparams.yaml", "encoder_dir": "iqs/encoder",
        "hparams_values": dict(hp),
        "state_dict_keys": keys,
        "encoder_config": {"num_hidden_layers": NUM_HIDDEN_LAYERS, "hidden_size": HIDDEN, "num_attention_heads": 2,
                           "intermediate_size": 64, "max_position_embeddings": MAX_POS_EMB, "type_vocab_size": 1,
                           "pad_token_id": 1, "layer_norm_eps": 1e-5, "hidden_act": "gelu (exact erf)",
                           "vocab_size": V, "position_ids": "RoBERTa: pad_id + cumsum(ids != pad_id) for real tokens, pad_id at pads (first real position is 2)"},
        "tokenizer": {"type": "Unigram (SentencePiece nmt_nfkc, converted to the XLM-R tokenizer.json layout)",
                      "normalizer": "Precompiled(nmt_nfkc charsmap)",
                      "pre_tokenizer": "Sequence[WhitespaceSplit, Metaspace(▁, prepend_scheme always)]",
                      "post_processor": "TemplateProcessing <s> $A </s>",
                      "special_ids": {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": V - 1},
                      "pad_token_id": 1, "vocab_size": V,
                      "truncation": f"max_length = max_positions - 2 = {TRUNC} tokens including <s> and </s>: ids = [0] + content[:{TRUNC - 2}] + [2]",
                      "padding": "right, with pad id 1, to the longest sequence of the batch; attention_mask 1 for real tokens",
                      "records_where_sentencepiece_differs": spm_diff},
        "max_positions": MAX_POSITIONS, "truncation_length": TRUNC,
        "num_layers": NUM_HIDDEN_LAYERS + 1,
        "scalar_weights": [float(v) for v in w],
        "gamma": float(gamma),
        "sparsemax_weights": [float(v) for v in w_mine],
        "sparsemax_weights_f64": [float(v) for v in w64],
        "pooling": "COMET average_pooling: embeddings at positions whose token id == pad id (1) are zeroed, summed over the sequence, divided by attention_mask.sum(); <s> and </s> included",
        "estimator": "Linear(32,64) -> Tanh -> Dropout -> Linear(64,32) -> Tanh -> Dropout -> Linear(32,1) (estimator.ff.{0,3,6}); eval mode, no dropout",
        "batch": {"order": "input order, one batch of all cases", "padded_width": int(batch["input_ids"].shape[1])},
        "max_abs_diff_batch_vs_unpadded_f32": d_unpadded,
        "max_abs_diff_batch_vs_numpy_f64": d_numpy,
        "score_std": float(scores.std()),
        "cases": cases,
    }
    C.write_json(GOLDEN, golden)


if __name__ == "__main__":
    main()
