# Concat fusion plus the pairing-quality discriminator on the C5 features
# (true RGB / event pairs against pairs shifted inside the batch);
# logs loss_pair and pair_acc, predictions carry a pair_score.
_base_ = './yolox_s_dual-concat_1xb8-300e_fred.py'

model = dict(
    pair_discriminator=dict(
        type='PairDiscriminator',
        in_channels=512,  # C5 of YOLOX-s: 1024 * widen_factor 0.5
        feat_channels=128,
        loss_pair=dict(
            type='CrossEntropyLoss', use_sigmoid=True, loss_weight=0.1)))
