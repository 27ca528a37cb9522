"""Social and medical insurance (人力资源和社会保障局 / 医疗保障局): registers each new employer for
social and medical insurance, and closes the registration when the enterprise closes."""
