// Feature mimicking on ResNets (PRACTISE's MiR finetuning, DC-ViT's on CNNs): the student's
// pre-pool feature map is pulled towards the frozen teacher's by MSE; no labels.
#pragma once

#include <ATen/Tensor.h>

#include "model/families/resnet/resnet.h"
#include "train/trainer.h"

namespace vitc {

// MSE (mean over batch, channels and positions) between the maps before global pooling.
at::Tensor resnet_feature_mimic_loss(ResNetImpl& student, ResNetImpl& teacher,
                                     const at::Tensor& images);

// Which parameters a finetuning updates: the stem and blocks 0..last_block (-1 or depth-1: every
// block); never the fc head, which the feature loss does not reach. The frozen blocks keep
// eval-mode BatchNorm (their running statistics do not move) during training.
void set_resnet_trainable(ResNetImpl& model, int last_block);

// A Trainee whose loss is resnet_feature_mimic_loss against `teacher` (eval mode). The student
// trains in train mode: BatchNorm normalises with batch statistics and updates its running
// statistics, except in the blocks after `last_block`.
Trainee resnet_mimic_trainee(ResNet& student, ResNet teacher, int last_block = -1);

}  // namespace vitc
