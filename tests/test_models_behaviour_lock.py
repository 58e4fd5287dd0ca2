"""Behaviour lock: the same losses and images on the same batch, before and after refactors.

Each tiny model is built from fixed seeds and run on a fixed batch: the teacher-forced loss terms
(noise on, DAMSM attached), the inference images of `generate_session` and `edit`, one real
`train_step` (its logs) and the loss terms after that step (so the optimizers' variable lists
and the gradients are locked too). The literals were recorded from the code before the model
file was split; a change here is a change of behaviour, not of structure.

To re-record after an intended change: `python -m tests.test_models_behaviour_lock`.
"""

from __future__ import annotations

import keras
import pytest
import tensorflow as tf

from seqgan_tf.losses.seq_attn_gan_loss import SeqAttnGANLoss
from tests.model_testlib import LOCKED_MODELS as MODELS
from tests.model_testlib import compiled, fake_batch, tiny_damsm

LOSS = SeqAttnGANLoss(
    damsm_weight=2.0, recon_weight=1.0, edit_weight=3.0, attribute_weight=1.0, classify_weight=1.0
)


def observe(kind: str) -> dict[str, float]:
    """Every locked figure of one tiny model, as name -> float."""
    keras.utils.set_random_seed(1234)
    model = compiled(MODELS[kind](), LOSS)
    model.attach_damsm(tiny_damsm())
    batch = fake_batch(4, seed=7, turns=[2, 3, 4, 1])
    prepared = model.preprocessor(batch)
    global_batch = tf.shape(batch["images"])[0]
    seen = {}

    def terms(prefix):
        out = model.training_outputs(prepared, step=3)
        for name, value in model.seq_loss(out, global_batch).items():
            seen[f"{prefix}/{name}"] = float(value)
        seen[f"{prefix}/fake_mean"] = float(tf.reduce_mean(out["fake"]))

    terms("before")
    session = model.generate_session(batch)
    seen["session/mean"] = float(tf.reduce_mean(session["images"]))
    seen["session/abs_mean"] = float(tf.reduce_mean(tf.abs(session["images"])))
    seen["session/attention_square_mean"] = float(tf.reduce_mean(session["attention"] ** 2))
    edited = model.edit(
        batch["images"][:, 0], batch["descriptions"][:, 0], model.start(batch["images"][:, 0])
    )
    seen["edit/mean"] = float(tf.reduce_mean(edited["image"]))
    seen["edit/abs_mean"] = float(tf.reduce_mean(tf.abs(edited["image"])))
    seen["edit/state_mean"] = float(tf.reduce_mean(edited["state"]))
    logs = model.train_step(prepared)
    for name, value in logs.items():
        seen[f"train_step/{name}"] = float(value[0])
    terms("after")
    return seen


# fmt: off
EXPECTED = {'edit': {'after/attr_change': 3.5247771739959717,
                     'after/attr_read': 8.730918884277344,
                     'after/attr_value': 4.028926372528076,
                     'after/attributes': 16.284622192382812,
                     'after/d_attr': 0.0,
'after/d_cond': 3.3015341758728027,
                     'after/d_fake': 2.326622247695923,
                     'after/d_loss': 7.676281929016113,
                     'after/d_real': 2.0481255054473877,
                     'after/edit_mask': 1.151003122329712,
                     'after/fake_mean': 0.15222874283790588,
                     'after/feature_match': 0.0,
                     'after/g_attr': 0.0,
'after/g_adv': 3.872621536254883,
                     'after/g_damsm': 33.624305725097656,
                     'after/g_loss': 98.56151580810547,
                     'after/recon': 11.155664443969727,
                     'before/attr_change': 3.5542521476745605,
                     'before/attr_read': 10.017013549804688,
                     'before/attr_value': 4.049001693725586,
                     'before/attributes': 17.620267868041992,
                     'before/d_attr': 0.0,
'before/d_cond': 3.3446457386016846,
                     'before/d_fake': 2.2898643016815186,
                     'before/d_loss': 7.783173561096191,
                     'before/d_real': 2.1486635208129883,
                     'before/edit_mask': 1.0755759477615356,
                     'before/fake_mean': 0.17421746253967285,
                     'before/feature_match': 0.0,
                     'before/g_attr': 0.0,
'before/g_adv': 3.9369258880615234,
                     'before/g_damsm': 34.92228698730469,
                     'before/g_loss': 102.59822082519531,
                     'before/recon': 11.196447372436523,
                     'edit/abs_mean': 0.2741640508174896,
                     'edit/mean': 0.14524459838867188,
                     'edit/state_mean': 0.13008074462413788,
                     'session/abs_mean': 0.2614292800426483,
                     'session/attention_square_mean': 0.0774739533662796,
                     'session/mean': 0.12956242263317108,
                     'train_step/attr_change': 3.5542521476745605,
                     'train_step/attr_read': 10.017013549804688,
                     'train_step/attr_value': 4.049001693725586,
                     'train_step/attributes': 17.620267868041992,
                     'train_step/d_attr': 0.0,
'train_step/d_cond': 3.3705320358276367,
                     'train_step/d_fake': 1.7724220752716064,
                     'train_step/d_loss': 7.291617393493652,
                     'train_step/d_real': 2.1486635208129883,
                     'train_step/edit_mask': 1.195938229560852,
                     'train_step/feature_match': 0.0,
                     'train_step/g_attr': 0.0,
'train_step/g_adv': 4.423280239105225,
                     'train_step/g_damsm': 36.79029083251953,
                     'train_step/g_loss': 106.89122009277344,
                     'train_step/recon': 11.267086029052734},
            'edit_latent': {'after/attr_change': 0.0,
                            'after/attr_read': 0.0,
                            'after/attr_value': 0.0,
                            'after/attributes': 0.0,
                            'after/d_attr': 0.0,
'after/d_cond': 3.3216044902801514,
                            'after/d_fake': 2.3227059841156006,
                            'after/d_loss': 7.47135066986084,
                            'after/d_real': 1.8270398378372192,
                            'after/edit_mask': 1.0549412965774536,
                            'after/fake_mean': 0.18655379116535187,
                            'after/feature_match': 0.0,
                            'after/g_attr': 0.0,
'after/g_adv': 3.467740535736084,
                            'after/g_damsm': 32.16621780395508,
                            'after/g_loss': 79.06221771240234,
                            'after/recon': 11.262039184570312,
                            'before/attr_change': 0.0,
                            'before/attr_read': 0.0,
                            'before/attr_value': 0.0,
                            'before/attributes': 0.0,
                            'before/d_attr': 0.0,
'before/d_cond': 3.3447265625,
                            'before/d_fake': 2.3455145359039307,
                            'before/d_loss': 7.5809831619262695,
                            'before/d_real': 1.890742301940918,
                            'before/edit_mask': 1.0739094018936157,
                            'before/fake_mean': 0.1772451102733612,
                            'before/feature_match': 0.0,
                            'before/g_attr': 0.0,
'before/g_adv': 3.466150999069214,
                            'before/g_damsm': 32.03532409667969,
                            'before/g_loss': 78.74375915527344,
                            'before/recon': 11.206966400146484,
                            'edit/abs_mean': 0.25164666771888733,
                            'edit/mean': 0.12584863603115082,
                            'edit/state_mean': -0.0037533948197960854,
                            'session/abs_mean': 0.19428002834320068,
                            'session/attention_square_mean': 0.0774739608168602,
                            'session/mean': 0.08986828476190567,
                            'train_step/attr_change': 0.0,
                            'train_step/attr_read': 0.0,
                            'train_step/attr_value': 0.0,
                            'train_step/attributes': 0.0,
                            'train_step/d_attr': 0.0,
'train_step/d_cond': 3.3771772384643555,
                            'train_step/d_fake': 2.20827317237854,
                            'train_step/d_loss': 7.476192474365234,
                            'train_step/d_real': 1.890742301940918,
                            'train_step/edit_mask': 1.179976224899292,
                            'train_step/feature_match': 0.0,
                            'train_step/g_attr': 0.0,
'train_step/g_adv': 3.453293800354004,
                            'train_step/g_damsm': 31.082286834716797,
                            'train_step/g_loss': 76.8743896484375,
                            'train_step/recon': 11.256521224975586},
            'edit_unet': {'after/attr_change': 3.3216238021850586,
                          'after/attr_read': 8.070804595947266,
                          'after/attr_value': 3.9334230422973633,
                          'after/attributes': 15.325851440429688,
                          'after/d_attr': 6.0627121925354,
                          'after/d_cond': 3.4006705284118652,
                          'after/d_fake': 1.507751226425171,
                          'after/d_loss': 13.120183944702148,
                          'after/d_real': 2.149049758911133,
                          'after/edit_mask': 1.5088047981262207,
                          'after/fake_mean': -0.015407955273985863,
                          'after/feature_match': 0.0,
                          'after/g_adv': 3.863309144973755,
                          'after/g_attr': 7.320598125457764,
                          'after/g_damsm': 36.061927795410156,
                          'after/g_loss': 111.8469009399414,
                          'after/recon': 13.213285446166992,
                          'before/attr_change': 3.4204115867614746,
                          'before/attr_read': 8.943552017211914,
                          'before/attr_value': 4.005006313323975,
                          'before/attributes': 16.36897087097168,
                          'before/d_attr': 6.339520454406738,
                          'before/d_cond': 3.433488368988037,
                          'before/d_fake': 1.5808277130126953,
                          'before/d_loss': 13.554494857788086,
                          'before/d_real': 2.2006583213806152,
                          'before/edit_mask': 1.5658340454101562,
                          'before/fake_mean': -0.00973303522914648,
                          'before/feature_match': 0.0,
                          'before/g_adv': 3.759782314300537,
                          'before/g_attr': 7.3480634689331055,
                          'before/g_damsm': 36.37229537963867,
                          'before/g_loss': 113.4990463256836,
                          'before/recon': 13.277645111083984,
                          'edit/abs_mean': 0.5042865872383118,
                          'edit/mean': -0.012716110795736313,
                          'edit/state_mean': 0.1250591278076172,
                          'session/abs_mean': 0.5042865872383118,
                          'session/attention_square_mean': 0.07747490704059601,
                          'session/mean': -0.012716107070446014,
                          'train_step/attr_change': 3.4204115867614746,
                          'train_step/attr_read': 8.943552017211914,
                          'train_step/attr_value': 4.005006313323975,
                          'train_step/attributes': 16.36897087097168,
                          'train_step/d_attr': 6.339520454406738,
                          'train_step/d_cond': 3.4809789657592773,
                          'train_step/d_fake': 1.659487247467041,
                          'train_step/d_loss': 13.680644989013672,
                          'train_step/d_real': 2.2006583213806152,
                          'train_step/edit_mask': 1.5578808784484863,
                          'train_step/feature_match': 0.0,
                          'train_step/g_adv': 3.5588536262512207,
                          'train_step/g_attr': 7.798074722290039,
                          'train_step/g_damsm': 35.87728500366211,
                          'train_step/g_loss': 112.84915924072266,
                          'train_step/recon': 13.368690490722656},
            'paper': {'after/attr_change': 0.0,
                      'after/attr_read': 0.0,
                      'after/attr_value': 0.0,
                      'after/attributes': 0.0,
                      'after/d_attr': 0.0,
'after/d_cond': 3.5178656578063965,
                      'after/d_fake': 2.7637510299682617,
                      'after/d_loss': 8.124393463134766,
                      'after/d_real': 1.8427767753601074,
                      'after/edit_mask': 0.0,
                      'after/fake_mean': -0.07693640142679214,
                      'after/feature_match': 0.0,
                      'after/g_attr': 0.0,
'after/g_adv': 2.8614113330841064,
                      'after/g_damsm': 32.13648986816406,
                      'after/g_loss': 73.2011489868164,
                      'after/recon': 6.066755294799805,
                      'before/attr_change': 0.0,
                      'before/attr_read': 0.0,
                      'before/attr_value': 0.0,
                      'before/attributes': 0.0,
                      'before/d_attr': 0.0,
'before/d_cond': 3.6477630138397217,
                      'before/d_fake': 2.8770196437835693,
                      'before/d_loss': 8.415525436401367,
                      'before/d_real': 1.890742301940918,
                      'before/edit_mask': 0.0,
                      'before/fake_mean': -0.08019637316465378,
                      'before/feature_match': 0.0,
                      'before/g_attr': 0.0,
'before/g_adv': 2.5676722526550293,
                      'before/g_damsm': 31.807540893554688,
                      'before/g_loss': 72.25430297851562,
                      'before/recon': 6.0715484619140625,
                      'edit/abs_mean': 0.3564564883708954,
                      'edit/mean': -0.07429668307304382,
                      'edit/state_mean': -0.0037533948197960854,
                      'session/abs_mean': 0.36638525128364563,
                      'session/attention_square_mean': 0.07747441530227661,
                      'session/mean': -0.07671225816011429,
                      'train_step/attr_change': 0.0,
                      'train_step/attr_read': 0.0,
                      'train_step/attr_value': 0.0,
                      'train_step/attributes': 0.0,
                      'train_step/d_attr': 0.0,
'train_step/d_cond': 3.5125763416290283,
                      'train_step/d_fake': 3.2014317512512207,
                      'train_step/d_loss': 8.604750633239746,
                      'train_step/d_real': 1.890742301940918,
                      'train_step/edit_mask': 0.0,
                      'train_step/feature_match': 0.0,
                      'train_step/g_attr': 0.0,
'train_step/g_adv': 2.5544843673706055,
                      'train_step/g_damsm': 33.418582916259766,
                      'train_step/g_loss': 75.44740295410156,
                      'train_step/recon': 6.05575704574585}}
# fmt: on


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_losses_and_images_are_locked(kind):
    seen = observe(kind)
    expected = EXPECTED[kind]
    assert sorted(seen) == sorted(expected)
    for name, value in expected.items():
        assert seen[name] == pytest.approx(value, rel=1e-4, abs=1e-6), name


if __name__ == "__main__":
    import pprint

    pprint.pprint({kind: observe(kind) for kind in sorted(MODELS)}, width=100, sort_dicts=True)
